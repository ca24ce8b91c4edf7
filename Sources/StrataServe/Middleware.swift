import Foundation
import Hummingbird
import Metrics
import StrataFormat
import Synchronization

/// `Authorization: Bearer TOKEN` on every route but `/healthz` when the server has a token; the
/// dashboard's pages also take it from the `strata_token` cookie, which a browser can hold.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        guard Self.allows(request.headers, token: token) else {
            throw APIError(.unauthorized, "unauthorized", "this server needs Authorization: Bearer TOKEN (the token in its --token-file)")
        }
        return try await next(request, context)
    }

    /// Whether the headers present the token, as a bearer credential or the dashboard's cookie.
    static func allows(_ headers: HTTPFields, token: [UInt8]) -> Bool {
        allows(authorization: headers[.authorization], cookie: headers[.cookie], token: token)
    }

    /// The same from the values of the `Authorization` and `Cookie` headers.
    static func allows(authorization: String?, cookie: String?, token: [UInt8]) -> Bool {
        let header = authorization.map { Array($0.utf8) } ?? []
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let prefix = Array("bearer ".utf8)
        var presented: [UInt8]?
        if header.count > prefix.count, header.prefix(prefix.count).map({ $0 | 0x20 }).elementsEqual(prefix) {
            presented = Array(header.dropFirst(prefix.count))
        }
        if presented == nil, let cookies = cookie {
            for part in cookies.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix("strata_token=") { presented = Array(pair.dropFirst("strata_token=".count).utf8) }
            }
        }
        guard let presented else { return false }
        return constantTimeEqual(presented, token)
    }

    /// Equal without an early exit: the time taken does not say how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count) | UInt8(truncatingIfNeeded: (a.count ^ b.count) >> 8)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0 && a.count == b.count
    }
}

/// Requests, errors and latency by route: to swift-metrics (which `/metrics` exports in Prometheus' format)
/// and to a small window the dashboard reads percentiles from.
struct RouteMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let stats: RouteStats

    /// Methods a client invents become "other": labels must not grow with what clients send.
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .post, .head, .put, .delete, .patch, .options: return method.rawValue
        default: return "other"
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            stats.record(route: context.endpointPath ?? "unmatched", method: Self.methodLabel(request.method), status: APIError.from(error).status.code,
                         elapsed: ContinuousClock.now - started)
            throw error
        }
        stats.record(route: context.endpointPath ?? "unmatched", method: Self.methodLabel(request.method), status: response.status.code,
                     elapsed: ContinuousClock.now - started)
        return response
    }
}

/// Per route: swift-metrics handles (created once each) and the last `windowCount` latencies.
final class RouteStats: Sendable {
    struct Key: Hashable { var route: String; var method: String; var status: Int }
    struct Handles { var requests: Counter; var errors: Counter?; var latency: Metrics.Timer }
    struct Window {
        var latenciesNs: [Int64] = []
        var next = 0
        var requests = 0
        var errors = 0

        mutating func add(_ nanoseconds: Int64, isError: Bool) {
            if latenciesNs.count < RouteStats.windowCount { latenciesNs.append(nanoseconds) } else { latenciesNs[next] = nanoseconds }
            next = (next + 1) % RouteStats.windowCount
            requests += 1
            if isError { errors += 1 }
        }
    }
    static let windowCount = 4096

    private let handles = Mutex<[Key: Handles]>([:])
    private let windows = Mutex<[String: Window]>([:])

    func record(route: String, method: String, status: Int, elapsed: Duration) {
        let key = Key(route: route, method: method, status: status)
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let handle = handles.withLock { table -> Handles in
            if let existing = table[key] { return existing }
            let dimensions = [("route", route), ("method", method), ("status", String(status))]
            let created = Handles(
                requests: Counter(label: "strata_http_requests_total", dimensions: dimensions),
                errors: status >= 400 ? Counter(label: "strata_http_errors_total", dimensions: dimensions) : nil,
                latency: Metrics.Timer(label: "strata_http_request_duration_seconds", dimensions: [("route", route), ("method", method)],
                                       preferredDisplayUnit: .seconds))
            table[key] = created
            return created
        }
        handle.requests.increment()
        handle.errors?.increment()
        handle.latency.recordNanoseconds(nanoseconds)
        windows.withLock { all in
            // In place: a copy of the window per request would cost more than the rest of this middleware.
            let key = "\(method) \(route)"
            if all[key] == nil { all[key] = Window() }
            all[key]!.add(nanoseconds, isError: status >= 400)
        }
    }

    struct Summary: Sendable { var route: String; var requests: Int; var errors: Int; var p50Ms: Double; var p99Ms: Double }

    /// Requests and errors since start, and latency percentiles over each route's recent window.
    func summaries() -> [Summary] {
        windows.withLock { all in
            all.keys.sorted().map { route in
                let window = all[route]!
                let sorted = window.latenciesNs.sorted()
                func percentile(_ p: Double) -> Double {
                    sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(p * Double(sorted.count)))]) / 1e6
                }
                return Summary(route: route, requests: window.requests, errors: window.errors, p50Ms: percentile(0.5), p99Ms: percentile(0.99))
            }
        }
    }
}
