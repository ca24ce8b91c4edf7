import ArgumentParser
import Foundation
import StrataFormat
import StrataServe
import StrataStorage
import StrataTrain

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve online features, churn scores with reasons, the registry and a dashboard over HTTP.",
        discussion: """
            Routes: GET /v1/features/{msno}, POST /v1/features, POST /v1/score, GET /v1/models|runs|tables, /healthz, /readyz, \
            /metrics (Prometheus), /openapi.json, and the dashboard at /. New committed versions (a promoted model, a new \
            materialisation) go live within a second. A sample of scored users is committed to the serving_log table; \
            SIGTERM or SIGINT stops taking requests, commits the log and exits.
            """)

    @OptionGroup var store: StoreOption
    @Option(help: "HOST:PORT to listen on (port 0: any free port, printed at start).") var listen = "127.0.0.1:8080"
    @Option(help: "File holding the bearer token every route but /healthz then requires.") var tokenFile: String?
    @Option(parsing: .unconditional, help: "Share of scored users written to the serving_log table, 0 to 1.") var logSample = 0.1
    @Option(help: "Serve this model's production version (default: the one model with a production version).") var model: String?
    @Option(name: .customLong("bucket-a"), parsing: .unconditional, help: "A (will churn anyway) from this probability.") var bucketA = 0.5
    @Option(name: .customLong("bucket-b"), parsing: .unconditional, help: "B (on the fence) from this probability; below is C (safe).") var bucketB = 0.15
    @Flag(help: "Enable POST /v1/admin/promote (needs --token-file).") var allowAdmin = false
    @Option(parsing: .unconditional, help: "Close a connection idle for this many seconds.") var idleTimeout = 30
    @Option(parsing: .unconditional, help: "Most connections open at once.") var maxConnections = 1024
    @Option(parsing: .unconditional, help: "Event loops (threads) that read, answer and run handlers (default: one per core).") var threads: Int?
    @Option(parsing: .unconditional, help: "Seconds between commits of the serving log.") var logInterval = 2.0
    @Flag(help: "Print the OpenAPI document of the API and exit.") var openapi = false

    func validate() throws {
        _ = try endpoint()
        guard logSample.isFinite, (0...1).contains(logSample) else { throw ValidationError("--log-sample must be between 0 and 1") }
        _ = try thresholds()
        if let model { try validateName(model, flag: "--model") }
        guard (1...86_400).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be 1 to 86400 seconds") }
        guard (1...100_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 100000") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be 1 to 256") }
        guard logInterval.isFinite, (0.05...3600).contains(logInterval) else { throw ValidationError("--log-interval must be 0.05 to 3600 seconds") }
        if allowAdmin && tokenFile == nil { throw ValidationError("--allow-admin needs --token-file: admin routes are never open without a token") }
    }

    private func thresholds() throws -> BucketThresholds {
        do { return try BucketThresholds(a: bucketA, b: bucketB) } catch { throw ValidationError("\(error)") }
    }

    /// `HOST:PORT`, `:PORT` or `PORT`; `[v6]:PORT` for IPv6.
    private func endpoint() throws -> (host: String, port: Int) {
        var host = "127.0.0.1"
        var portText = listen
        if let colon = listen.lastIndex(of: ":") {
            host = String(listen[..<colon])
            portText = String(listen[listen.index(after: colon)...])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty { host = "127.0.0.1" }
        }
        guard let port = Int(portText), (0...65_535).contains(port), !host.contains(where: { $0 == "/" || $0.isWhitespace }) else {
            throw ValidationError("--listen must be HOST:PORT (port 0 to 65535), got '\(listen)'")
        }
        return (host, port)
    }

    func run() throws {
        if openapi {
            print(OpenAPIDocument.json)
            return
        }
        var options = ServeOptions(storePath: store.path)
        (options.host, options.port) = try endpoint()
        options.token = try tokenFile.map(readToken)
        options.logSample = logSample
        options.modelName = model
        options.thresholds = try thresholds()
        options.allowAdmin = allowAdmin
        options.idleTimeoutSeconds = idleTimeout
        options.maxConnections = maxConnections
        options.logIntervalSeconds = logInterval
        _ = try Store(path: store.path)
        // Admin writes (promote) wait briefly for the serving log's commit rather than failing.
        StoreWriter.lockWaitSeconds = max(StoreWriter.lockWaitSeconds, 5)
        if options.token == nil && !["127.0.0.1", "localhost", "::1"].contains(options.host) {
            serveLog("warning: listening on \(options.host) without --token-file: anyone who reaches this port can read features and scores")
        }
        StrataServer.runHandlersOnEventLoops(threads: threads)
        let done = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        let storePath = store.path
        let settings = options
        let shownHost = options.host.contains(":") ? "[\(options.host)]" : options.host
        Task {
            do {
                try await StrataServer.run(settings, log: serveLog) { port in
                    writeStandardOutput(Array("strata serve: listening on http://\(shownHost):\(port) (store \(storePath))\n".utf8))
                }
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw Self.explain(error, options: settings) }
        serveLog("stopped")
    }

    private func readToken(_ path: String) throws -> String {
        guard FileSystem.isRegularFile(path) else { throw ValidationError("--token-file \(path) is not a readable regular file") }
        let bytes = try FileSystem.readFile(path)
        guard bytes.count <= 4096 else { throw ValidationError("--token-file \(path) is larger than 4096 bytes; it should hold one token") }
        let token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.count >= 16, !token.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ValidationError("--token-file \(path) must hold one token of at least 16 characters without spaces")
        }
        return token
    }

    /// Startup failures said plainly (the port taken, an address that does not resolve).
    static func explain(_ error: Error, options: ServeOptions) -> Error {
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") {
            return StorageError.invalid("cannot listen on \(options.host):\(options.port): the port is in use; pick another with --listen")
        }
        if error is StorageError || error is TrainError { return error }
        return StorageError.invalid("cannot serve on \(options.host):\(options.port): \(text)")
    }
}

/// The first error of the server task, handed to the command's thread.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ error: Error) { lock.withLock { stored = error } }
    var error: Error? { lock.withLock { stored } }
}

/// A line of the server's log on standard error, with the time.
@Sendable func serveLog(_ message: String) {
    let line = "\(StoreWriter.timestamp()) strata serve: \(message)\n"
    FileHandle.standardError.write(Data(line.utf8))
}
