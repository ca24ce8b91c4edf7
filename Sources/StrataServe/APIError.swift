import Foundation
import Hummingbird
import NIOCore
import StrataFeatures
import StrataFormat
import StrataStorage
import StrataTrain
import Synchronization

/// An error a client caused or must know about, answered as `{"error": "...", "detail": "..."}`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// A short, stable code: `bad_request`, `not_found`, `unauthorized`, `too_large`, `not_ready`, …
    public var error: String
    /// What went wrong and what to do, for a person.
    public var detail: String

    public init(_ status: HTTPResponse.Status, _ error: String, _ detail: String) {
        self.status = status
        self.error = error
        self.detail = detail
    }

    static func badRequest(_ detail: String) -> APIError { APIError(.badRequest, "bad_request", detail) }
    static func notFound(_ detail: String) -> APIError { APIError(.notFound, "not_found", detail) }
    static func notReady(_ detail: String) -> APIError { APIError(.serviceUnavailable, "not_ready", detail) }
    static func tooLarge(_ detail: String) -> APIError { APIError(.contentTooLarge, "too_large", detail) }

    /// `{"error": ..., "detail": ...}`.
    var body: [UInt8] {
        var body: [UInt8] = Array("{\"error\":".utf8)
        JSONText.appendString(error, to: &body)
        body += Array(",\"detail\":".utf8)
        JSONText.appendString(detail, to: &body)
        body.append(UInt8(ascii: "}"))
        return body
    }

    var response: Response {
        var response = Response.json(body, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"strata\"" }
        return response
    }

    /// Any error as the API reports it: ours as they are, the framework's by their status, others as 500
    /// (whose text goes to the log, not to the client).
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as FeaturePlanError: return .badRequest(error.message)
        case let error as TrainError: return .badRequest(error.message)
        case StorageError.locked:
            return APIError(.serviceUnavailable, "busy", "another writer holds the store's lock; retry shortly")
        case is NIOTooManyBytesError:
            return .tooLarge("the request body is larger than \(ServeLimits.bodySizeBytesMax) bytes")
        case let error as HTTPError:
            switch error.status {
            case .notFound: return .notFound("no such route; the API is described at /openapi.json")
            case .badRequest: return .badRequest(error.body ?? "the request is malformed")
            case .methodNotAllowed: return APIError(.methodNotAllowed, "method_not_allowed", "this route does not take that method; see /openapi.json")
            case .contentTooLarge: return .tooLarge("the request body is larger than \(ServeLimits.bodySizeBytesMax) bytes")
            default: return APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
            }
        case let error as any HTTPResponseError:
            return APIError(error.status, "http_error", error.status.reasonPhrase)
        default:
            return APIError(.internalServerError, "internal", "the server failed to answer; its log says why")
        }
    }
}

/// Limits on what a client can make the server hold or do.
public enum ServeLimits {
    /// Largest request body accepted (1,000 msno or vectors fit in well under this).
    public static let bodySizeBytesMax = 1 << 20
    /// Most users in one request.
    public static let usersPerRequestMax = 1_000
    /// Seconds a client may take to send a request body.
    public static let bodyReadSeconds = 10.0
    /// Requests computing vectors as of a day at once (each one is a point-in-time join), and waiting.
    public static let computationsMax = 2
    public static let computationsWaitingMax = 8
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: contentType, .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// A record encoded as the CLI's JSON output encodes it: snake_case keys, sorted, compact.
    static func encoded<T: Encodable>(_ value: T) throws -> Response {
        .json(Array(try JSONText.recordEncoder.encode(value)))
    }
}

/// Turns every error thrown below it — a handler's, the router's 404, the body limit — into the API's JSON error.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: @Sendable (String) -> Void
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var answer = APIError.from(error)
            if answer.status == .internalServerError { log("\(request.method) \(request.uri.path): \(error)") }
            // The router answers 404 for a known path asked with another method: that is a 405.
            if answer.status == .notFound, let allowed = routes.methods(for: request.uri.path), !allowed.contains(request.method.rawValue) {
                answer = APIError(.methodNotAllowed, "method_not_allowed", "\(request.uri.path.prefix(64)) takes \(allowed.joined(separator: ", "))")
                var response = answer.response
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            return answer.response
        }
    }
}

/// The paths the router serves and their methods, to tell a wrong method (405) from an unknown path (404).
/// Filled while the routes are registered, read only when a request found no route.
final class RouteTable: Sendable {
    /// Path patterns (`:name` matches one segment) and their methods.
    private let entries = Mutex<[(pattern: [Substring], methods: [String])]>([])

    func add(_ path: String, _ method: String) {
        let pattern = path.split(separator: "/")
        entries.withLock { entries in
            if let index = entries.firstIndex(where: { $0.pattern == pattern }) {
                entries[index].methods.append(method)
            } else {
                entries.append((pattern, [method]))
            }
        }
    }

    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "/")
        return entries.withLock { entries in
            entries.first { entry in
                entry.pattern.count == segments.count && zip(entry.pattern, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }?.methods
        }
    }
}
