import Foundation
import Hummingbird
import NIOCore
import StrataFormat
import StrataStorage
import Synchronization

/// Request bodies: one JSON object with known fields, read within a size cap, and every
/// mistake named (a misspelt field is an error, not a silently ignored key).
enum JSONBody {
    static func object(_ request: Request, allowed: Set<String>) async throws -> [String: JSONValue] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > ServeLimits.bodySizeBytesMax {
            throw APIError.tooLarge("the request body is larger than \(ServeLimits.bodySizeBytesMax) bytes")
        }
        let stream = request.body
        let buffer: ByteBuffer
        // A body that does not arrive within ServeLimits.bodyReadSeconds is answered 408 by the connection's
        // handler (FastRoutes), which closes the connection: the read below then fails.
        do {
            buffer = try await stream.collect(upTo: ServeLimits.bodySizeBytesMax)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("the request body is larger than \(ServeLimits.bodySizeBytesMax) bytes")
        } catch {
            throw APIError.badRequest("the request body ended before its declared length")
        }
        return try parse(Array(buffer.readableBytesView), allowed: allowed)
    }

    /// A whole body as the JSON object of a route taking `allowed` fields.
    static func parse(_ bytes: [UInt8], allowed: Set<String>) throws -> [String: JSONValue] {
        guard !bytes.isEmpty else { throw APIError.badRequest("the request needs a JSON object body") }
        // Decoding cost grows with nesting; no body of this API nests deeper than a few levels.
        guard nestingDepth(bytes) <= nestingDepthMax else {
            throw APIError.badRequest("the body nests deeper than \(nestingDepthMax) levels; no request of this API does")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
        guard case .object(let object) = value else { throw APIError.badRequest("the body must be a JSON object") }
        if let extra = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.badRequest("unknown field '\(extra.prefix(64))' (this route takes \(allowed.sorted().joined(separator: ", ")))")
        }
        return object
    }

    static let nestingDepthMax = 6

    /// The deepest nesting of arrays and objects in `bytes` (brackets inside strings do not count), in one pass.
    static func nestingDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    static func string(_ value: JSONValue?, field: String) throws -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw APIError.badRequest("\"\(field)\" must be a string")
        }
    }

    static func bool(_ value: JSONValue?, field: String) throws -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw APIError.badRequest("\"\(field)\" must be true or false")
        }
    }

    /// 1 to `usersPerRequestMax` msno strings.
    static func msnoList(_ value: JSONValue?, required: Bool) throws -> [String] {
        guard case .array(let items)? = value, !items.isEmpty else {
            throw APIError.badRequest("\"msno\" must be a non-empty array of msno strings")
        }
        guard items.count <= ServeLimits.usersPerRequestMax else {
            throw APIError.tooLarge("at most \(ServeLimits.usersPerRequestMax) msno per request, got \(items.count)")
        }
        return try items.map { item in
            guard case .string(let text) = item, !text.isEmpty, text.utf8.count <= 256 else {
                throw APIError.badRequest("\"msno\" must hold non-empty strings of at most 256 bytes")
            }
            return text
        }
    }

    static func appendStrings(_ strings: [String], to body: inout [UInt8]) {
        body.append(UInt8(ascii: "["))
        for (index, text) in strings.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONText.appendString(text, to: &body)
        }
        body.append(UInt8(ascii: "]"))
    }
}

/// Heavy work (point-in-time computation, large batches, writes) on threads of its own, a few at a
/// time, so it never holds the threads that answer the cheap requests; beyond the queue it is refused.
final class ComputeLimiter: Sendable {
    private let queue = DispatchQueue(label: "strata.compute", attributes: .concurrent)
    private let slots = DispatchSemaphore(value: ServeLimits.computationsMax)
    private let waiting = Synchronization.Mutex(0)

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted = waiting.withLock { count -> Bool in
            guard count < ServeLimits.computationsMax + ServeLimits.computationsWaitingMax else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw APIError(.serviceUnavailable, "busy", "too many computations in flight; retry shortly")
        }
        defer { waiting.withLock { $0 -= 1 } }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { [slots] in
                slots.wait()
                defer { slots.signal() }
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
