import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain

/// Options of `strata serve`.
public struct ServeOptions: Sendable {
    public var storePath: String
    public var host = "127.0.0.1"
    public var port = 8080
    /// Required as `Authorization: Bearer …` on every route but `/healthz` when set.
    public var token: String?
    /// Share of scored users written to the serving log (0 to 1).
    public var logSample = 0.1
    /// The model whose production version answers; default: the one model with a production version.
    public var modelName: String?
    public var thresholds = BucketThresholds.standard
    /// `POST /v1/admin/promote` (needs a token too).
    public var allowAdmin = false
    /// A connection with no traffic for this long is closed.
    public var idleTimeoutSeconds = 30
    public var maxConnections = 1024
    /// How often the serving log is committed, and how many records may wait.
    public var logIntervalSeconds = 2.0
    public var logQueueCapacity = 100_000
    /// How often the store is checked for a new committed version.
    public var pollMilliseconds = 200

    public init(storePath: String) { self.storePath = storePath }
}

public enum StrataServer {
    /// Makes swift-nio's event loops Swift Concurrency's global executor, so a request's handler runs on
    /// the thread that read it instead of hopping to another pool and back (measured: the hop was most of
    /// the latency of a cheap route). Call once, from the main thread, before any task starts.
    /// `threads`: how many event loops (nil: one per core).
    public static func runHandlersOnEventLoops(threads: Int? = nil) {
        if let threads { NIOSingletons.groupLoopCountSuggestion = max(1, threads) }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// Serves until SIGTERM or SIGINT, then stops taking requests, commits the serving log and returns.
    /// `ready` is called with the bound port once the server listens.
    public static func run(_ options: ServeOptions, log: @escaping @Sendable (String) -> Void, ready: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)

        let state = try ServingState.open(path: options.storePath, modelName: options.modelName, log: log)
        let queue = ServingLogQueue(capacity: options.logQueueCapacity)
        let stats = RouteStats()
        let api = ServeAPI(state: state, options: options, logQueue: queue, compute: ComputeLimiter(), log: log)
        let dashboard = try Dashboard.make(state: state, stats: stats, queue: queue)
        let gauges = ServeGauges(registry: registry)

        let router = Router(options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        router.add(middleware: JSONErrorMiddleware(log: log, routes: routes))
        router.add(middleware: RouteMetricsMiddleware(stats: stats))
        if let token = options.token { router.add(middleware: TokenMiddleware(token: Array(token.utf8))) }
        let route = { (method: HTTPRequest.Method, path: String, handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) in
            router.on(RouterPath(path), method: method, use: handler)
            routes.add(path, method.rawValue)
            if method == .get { routes.add(path, "HEAD") }
        }
        route(.get, "/healthz") { _, _ in Response.json(Array("{\"status\":\"alive\"}".utf8)) }
        route(.get, "/readyz", api.ready)
        route(.get, "/metrics") { _, _ in
            gauges.update(state.snapshot, queue: queue)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        route(.get, "/openapi.json") { _, _ in Response.json(Array(OpenAPIDocument.json.utf8)) }
        route(.get, "/v1/features/:msno", api.feature)
        route(.post, "/v1/features", api.features)
        route(.post, "/v1/score", api.score)
        route(.get, "/v1/models", api.models)
        route(.get, "/v1/runs", api.runs)
        route(.get, "/v1/tables", api.tables)
        if options.allowAdmin { route(.post, "/v1/admin/promote", api.promote) }
        for (path, page) in dashboard.pages { route(.get, path, page) }

        var logger = Logger(label: "strata.serve")
        logger.logLevel = .warning
        let app = Application(
            router: router,
            // The idle timeout is kept by FastRoutes, which sees every request.
            server: .http1(configuration: .init(additionalChannelHandlers: [
                FastRoutes.Installer {
                    FastRoutes(api: api, stats: stats, token: options.token.map { Array($0.utf8) },
                                    idleTimeout: .seconds(Int64(options.idleTimeoutSeconds)))
                }])),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "strata",
                                 availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections)),
            services: [
                // Shut down in reverse order: the server stops first, then the log commits what it holds.
                ServingLogService(queue: queue, path: options.storePath, interval: .milliseconds(Int(options.logIntervalSeconds * 1000)), log: log),
                StoreWatcher(state: state, interval: .milliseconds(options.pollMilliseconds), log: log),
            ],
            onServerRunning: { channel in ready(channel.localAddress?.port ?? options.port) },
            logger: logger)
        try await app.runService()
    }
}

/// Follows the store's commits: a promoted model or a new online table goes live at the next poll.
struct StoreWatcher: Service {
    let state: ServingState
    let interval: Duration
    let log: @Sendable (String) -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                state.refresh(log: log)
            }
        }
    }
}

/// Gauges set at each scrape: what is serving and the serving log's queue.
struct ServeGauges: Sendable {
    let storeVersion: Prometheus.Gauge
    let modelVersion: Prometheus.Gauge
    let ready: Prometheus.Gauge
    let queueDepth: Prometheus.Gauge
    let logDropped: Prometheus.Gauge
    let logCommitted: Prometheus.Gauge
    init(registry: PrometheusCollectorRegistry) {
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "strata", metricName: name, unitName: "", helpText: help))
        }
        storeVersion = gauge("store_version", "The committed store version being served.")
        modelVersion = gauge("model_version", "The version of the production model answering scores (0: none).")
        ready = gauge("ready", "1 when a production model and its online table are loaded.")
        queueDepth = gauge("serving_log_queue_depth", "Scored requests waiting to be committed to serving_log.")
        logDropped = gauge("serving_log_dropped_total", "Serving-log records dropped because the queue was full.")
        logCommitted = gauge("serving_log_committed_total", "Serving-log records committed to the store.")
    }

    func update(_ snapshot: ServingSnapshot, queue: ServingLogQueue) {
        storeVersion.set(Double(snapshot.store.version))
        modelVersion.set(Double(snapshot.scorer?.entry.version ?? 0))
        ready.set(Double(snapshot.isReady ? 1 : 0))
        queueDepth.set(Double(queue.depth))
        logDropped.set(Double(queue.dropped))
        logCommitted.set(Double(queue.committed))
    }
}
