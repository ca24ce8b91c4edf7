import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// The two routes a caller asks most — `GET /v1/features/{msno}` and `POST /v1/score` — answered at the
/// front of the channel pipeline, from the bytes read, on the event loop that read them: an online lookup
/// costs microseconds, and swift-nio's HTTP/1.1 parser, its request and header types, the conversion to
/// framework types, the router's async task, three middlewares and the body's async stream cost several
/// times that (measured: 49 µs of CPU per features request with the route answered after swift-nio's
/// parser, 95 µs on `/healthz` through the router, at scale M). Everything else goes on to the parser and
/// the router untouched, byte for byte:
///
/// * features: only a GET with no query string, a one-segment msno, and the default view's online table
///   (200, or 404 for an msno the table lacks — the route's own bytes, from `ServeAPI.onlineVector`);
/// * score: a POST with a Content-Length of at most 64 KiB, read whole here, then answered by
///   `ServeAPI.scoreInline` (the route's own code: the same bytes and errors) unless it needs work off the
///   request threads (`as_of`, more than 16 vectors), in which case the request, body included, goes on;
/// * with `--token-file`, a request without the token goes on to the router, which answers 401;
/// * answers stay in request order: while a request handed on has not been answered, the requests after
///   it are handed on too;
/// * requests, errors and latency are recorded in the same `RouteStats` as the router's routes.
///
/// **What is read here.** A request head is parsed only as far as it is plain HTTP/1.1 (RFC 9112): a
/// request line `METHOD SP target SP HTTP/1.x`, header lines `name: value` with a token name and visible
/// characters in the value, CRLF line ends, at most one Content-Length of digits, no Transfer-Encoding and
/// no Upgrade. The body's length is the Content-Length. A request this path does not answer is handed on
/// with exactly its bytes, so the parser after it sees request boundaries where this path saw them. Any
/// head that is not plain in that sense — or longer than 16 KiB — turns the connection over to swift-nio's
/// parser for good (it answers the errors, as without this path).
///
/// The answer is written as the bytes of one HTTP/1.1 response (status line, five headers, body): one
/// buffer, one write. `ResponseEnds`, a second handler just before the framework's HTTP conversion, tells
/// this one when the router has ended an answer, and in the pass-through mode when a request began and
/// ended.
///
/// It also keeps the connection's timeouts, as it sees every byte: the idle timeout (the framework's own is
/// off, as it would not see the requests answered here) — a connection with nothing read or written for
/// `idleTimeout` is closed, unless an answer is being computed for a request read whole — and the body
/// deadline: a request whose end has not arrived `ServeLimits.bodyReadSeconds` after its first byte is
/// answered 408 and its connection closed (a timer per connection).
final class FastRoutes: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let featureRoute = "/v1/features/{msno}"
    private static let prefix = Array("/v1/features/".utf8)
    /// Score bodies up to this size are read here; larger ones go to the router as they stream.
    static let scoreBodyMax = 64 << 10
    /// A head not complete within this many bytes is left to swift-nio's parser and its limits.
    static let headMax = 16 << 10

    private let api: ServeAPI
    private let stats: RouteStats
    private let token: [UInt8]?
    private let idleTimeout: TimeAmount

    private enum Mode {
        /// At a request boundary, or reading a request's head or body here.
        case requests
        /// Handing on the rest of a request's body: this many bytes.
        case handingOnBody(Int)
        /// Every byte from here on goes to swift-nio's parser.
        case passThrough
    }
    private var mode = Mode.requests
    /// Bytes read and not yet answered or handed on.
    private var unread: ByteBuffer?
    /// Requests handed on whose answer has not ended.
    private var awaiting = 0
    private var closing = false
    private var lastActivity = NIODeadline.now()
    /// When the request being read (here, or by the parser after this handler) began.
    private var requestStarted: NIODeadline?
    private let bodyDeadline = TimeAmount.milliseconds(Int64(ServeLimits.bodyReadSeconds * 1000))
    private var idleCheck: Scheduled<Void>?
    private var idleCheckAt: NIODeadline?
    private var context: ChannelHandlerContext?
    /// The Date header of the current second (RFC 9110 §6.6.1), formatted once a second per connection.
    private var dateSecond = 0
    private var dateBytes: [UInt8] = []

    init(api: ServeAPI, stats: RouteStats, token: [UInt8]?, idleTimeout: TimeAmount) {
        self.api = api
        self.stats = stats
        self.token = token
        self.idleTimeout = idleTimeout
    }

    /// Hummingbird adds its extra handlers after its own conversion to HTTP types; this handler belongs at
    /// the front of the pipeline, so what Hummingbird adds is this installer, which puts it there (and
    /// `ResponseEnds` just before the conversion) and steps out of the pipeline.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let make: () -> FastRoutes

        init(_ make: @escaping () -> FastRoutes) { self.make = make }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
                let routes = make()
                try? pipeline.addHandler(routes, position: .first)
                try? pipeline.addHandler(ResponseEnds(routes), position: .before(codec))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }

    /// Tells `FastRoutes` what happens after swift-nio's parser: each answer's end, and in pass-through
    /// mode each request's head and end.
    final class ResponseEnds: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        private let routes: FastRoutes

        init(_ routes: FastRoutes) { self.routes = routes }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(var head):
                routes.parsedHead()
                // A request that ends its connection — HTTP/1.0 without keep-alive, or `Connection: close` in
                // any spelling or list — says so as the framework understands it: its request type has no
                // HTTP version, and it closes after the answer only on the exact value "close".
                if !head.isKeepAlive {
                    head.headers.replaceOrAdd(name: "connection", value: "close")
                    context.fireChannelRead(wrapInboundOut(.head(head)))
                    return
                }
            case .end: routes.parsedEnd()
            case .body: break
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { routes.answerEnded() }
            context.write(data, promise: promise)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { scheduleIdleCheck(context: context, at: .now() + idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if idleCheck == nil { scheduleIdleCheck(context: context, at: .now() + idleTimeout) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        if closing { return }
        if case .passThrough = mode {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if unread == nil {
            unread = bytes
        } else {
            unread!.writeBuffer(&bytes)
        }
        process(context: context)
    }

    /// Answers or hands on every complete request of `unread`, and what has arrived of a body being handed on.
    private func process(context: ChannelHandlerContext) {
        while !closing, var buffer = unread, buffer.readableBytes > 0 {
            switch mode {
            case .passThrough:
                unread = nil
                context.fireChannelRead(wrapInboundOut(buffer))
                return
            case .handingOnBody(let remaining):
                let count = min(remaining, buffer.readableBytes)
                let part = buffer.readSlice(length: count)!
                unread = buffer.readableBytes > 0 ? buffer : nil
                if count == remaining {
                    mode = .requests
                    requestStarted = nil
                } else {
                    mode = .handingOnBody(remaining - count)
                }
                context.fireChannelRead(wrapInboundOut(part))
            case .requests:
                if requestStarted == nil { startRequest(context: context) }
                let parsed = buffer.withUnsafeReadableBytes { PlainHead.parse($0) }
                guard case .head(let head) = parsed else {
                    if case .incomplete = parsed, buffer.readableBytes <= Self.headMax { return }
                    // Not plain HTTP/1.1 (or a head too long): swift-nio's parser takes the connection.
                    mode = .passThrough
                    requestStarted = nil
                    continue
                }
                let whole = head.length + head.contentLength
                // A score body read here: wait for all of it.
                let readsBody = head.method == .post && head.contentLength <= Self.scoreBodyMax && awaiting == 0
                    && buffer.withUnsafeReadableBytes { head.target(in: $0) } == "/v1/score" && !head.expectsContinue && allowed(head, buffer)
                if readsBody && buffer.readableBytes < whole { return }
                if awaiting == 0, let answer = answer(head, buffer: buffer, readBody: readsBody) {
                    buffer.moveReaderIndex(forwardBy: whole)
                    unread = buffer.readableBytes > 0 ? buffer : nil
                    requestStarted = nil
                    write(answer, context: context)
                    continue
                }
                // Hand the request on: its head and the body that has arrived.
                let available = min(whole, buffer.readableBytes)
                let part = buffer.readSlice(length: available)!
                unread = buffer.readableBytes > 0 ? buffer : nil
                awaiting += 1
                if available < whole {
                    mode = .handingOnBody(whole - available)
                } else {
                    requestStarted = nil
                }
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    /// The answer for a request this path serves, or nil to hand it on.
    private func answer(_ head: PlainHead, buffer: ByteBuffer, readBody: Bool) -> Answer? {
        if readBody {
            let body = buffer.withUnsafeReadableBytes { Array($0[head.length..<(head.length + head.contentLength)]) }
            return score(head, body: body)
        }
        guard head.method == .get, head.contentLength == 0 else { return nil }
        // The target's bytes where they were read: no String of the path or the msno on this route.
        return buffer.withUnsafeReadableBytes { bytes -> Answer? in
            let target = UnsafeRawBufferPointer(rebasing: bytes[head.targetRange])
            guard target.count > Self.prefix.count, target.starts(with: Self.prefix) else { return nil }
            let segment = UnsafeRawBufferPointer(rebasing: target[Self.prefix.count...])
            // A query (?view=, ?as_of=) or a second segment: the router's validation and messages apply.
            var escaped = false
            for byte in segment {
                if byte == UInt8(ascii: "?") || byte == UInt8(ascii: "/") { return nil }
                if byte == UInt8(ascii: "%") { escaped = true }
            }
            guard allowed(head, buffer) else { return nil }
            // Unescaped, the bytes are visible ASCII (a plain head has nothing else in its target).
            guard escaped else { return features(msno: segment, head: head) }
            guard let decoded = Self.percentDecoded(segment), !decoded.isEmpty else { return nil }
            return decoded.withUnsafeBytes { features(msno: $0, head: head) }
        }
    }

    /// The features route's answer for an msno's UTF-8 bytes, or nil when the router must answer.
    private func features(msno: UnsafeRawBufferPointer, head: PlainHead) -> Answer? {
        let started = ContinuousClock.now
        let snapshot = api.state.snapshot
        guard let view = api.defaultView(snapshot) else { return nil }
        do {
            guard let body = try api.onlineVector(msno: msno, view: view, day: nil, snapshot: snapshot) else { return nil }
            return Answer(status: .ok, body: body, close: !head.keepAlive, started: started, route: Self.featureRoute, method: "GET")
        } catch let error as APIError {
            return Answer(status: HTTPResponseStatus(statusCode: Int(error.status.code)), body: error.body, close: !head.keepAlive,
                          started: started, route: Self.featureRoute, method: "GET")
        } catch {
            return nil
        }
    }

    /// The route's answer to a score body, or nil when the router must answer (work off the event loop).
    private func score(_ head: PlainHead, body: [UInt8]) -> Answer? {
        let started = ContinuousClock.now
        do {
            guard let answer = try api.scoreInline(body: body) else { return nil }
            return Answer(status: .ok, body: answer, close: !head.keepAlive, started: started, route: "/v1/score", method: "POST")
        } catch let error as APIError {
            return Answer(status: HTTPResponseStatus(statusCode: Int(error.status.code)), body: error.body, close: !head.keepAlive,
                          started: started, route: "/v1/score", method: "POST")
        } catch {
            return nil  // the router answers, and logs, what the API does not name
        }
    }

    private func allowed(_ head: PlainHead, _ buffer: ByteBuffer) -> Bool {
        guard let token else { return true }
        let (authorization, cookie) = buffer.withUnsafeReadableBytes { (head.authorization(in: $0), head.cookie(in: $0)) }
        return TokenMiddleware<BasicRequestContext>.allows(authorization: authorization, cookie: cookie, token: token)
    }

    /// `%XX` escapes decoded, as UTF-8 bytes; nil for a malformed escape or bytes that are not UTF-8 (the
    /// router then answers), as Foundation's `removingPercentEncoding` decides, without its cost.
    static func percentDecoded<Bytes: Collection>(_ text: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            index = text.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard index != text.endIndex, let high = hex(text[index]) else { return nil }
            index = text.index(after: index)
            guard index != text.endIndex, let low = hex(text[index]) else { return nil }
            index = text.index(after: index)
            bytes.append(high << 4 | low)
        }
        // ASCII is UTF-8 (KKBox's msno are base64); only other bytes need the check.
        return bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil ? bytes : nil
    }

    // MARK: - What happens after the parser

    fileprivate func parsedHead() {
        if case .passThrough = mode {
            awaiting += 1
            if requestStarted == nil, let context { startRequest(context: context) }
        }
    }

    fileprivate func parsedEnd() {
        if case .passThrough = mode { requestStarted = nil }
    }

    fileprivate func answerEnded() {
        awaiting = max(0, awaiting - 1)
        lastActivity = .now()
    }

    // MARK: - Writing

    private struct Answer {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var close: Bool
        var started: ContinuousClock.Instant
        var route: String
        var method: String
    }

    private static let okLine = Array("HTTP/1.1 200 OK\r\n".utf8)
    private static let fixedHeaders = Array("Content-Type: application/json\r\nCache-Control: no-store\r\nContent-Length: ".utf8)
    private static let dateName = Array("\r\nDate: ".utf8)
    private static let serverLine = Array("\r\nServer: strata\r\n".utf8)
    private static let closeLine = Array("Connection: close\r\n".utf8)

    private func write(_ answer: Answer, context: ChannelHandlerContext, record: Bool = true) {
        var buffer = context.channel.allocator.buffer(capacity: 192 + answer.body.count)
        if answer.status == .ok {
            buffer.writeBytes(Self.okLine)
        } else {
            buffer.writeString("HTTP/1.1 \(answer.status.code) \(answer.status.reasonPhrase)\r\n")
        }
        buffer.writeBytes(Self.fixedHeaders)
        buffer.writeString(String(answer.body.count))
        buffer.writeBytes(Self.dateName)
        buffer.writeBytes(httpDate())
        buffer.writeBytes(Self.serverLine)
        if answer.close { buffer.writeBytes(Self.closeLine) }
        buffer.writeBytes([13, 10])
        buffer.writeBytes(answer.body)
        if answer.close {
            closing = true
            unread = nil
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        lastActivity = .now()
        if record {
            stats.record(route: answer.route, method: answer.method, status: Int(answer.status.code), elapsed: ContinuousClock.now - answer.started)
        }
    }

    private func httpDate() -> [UInt8] {
        var now = time(nil)
        if now != dateSecond {
            var parts = tm()
            gmtime_r(&now, &parts)
            var text = [CChar](repeating: 0, count: 64)
            let length = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            dateBytes = text[0..<length].map { UInt8(bitPattern: $0) }
            dateSecond = now
        }
        return dateBytes
    }

    // MARK: - Timeouts

    private func startRequest(context: ChannelHandlerContext) {
        requestStarted = lastActivity
        // The body deadline needs a check before the idle one would come.
        if let at = idleCheckAt, at > lastActivity + bodyDeadline { scheduleIdleCheck(context: context, at: lastActivity + bodyDeadline) }
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck?.cancel()
        idleCheckAt = deadline
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.idleCheckFired(context: context)
        }
    }

    private func idleCheckFired(context: ChannelHandlerContext) {
        idleCheck = nil
        idleCheckAt = nil
        guard context.channel.isActive, !closing else { return }
        let now = NIODeadline.now()
        if let requestStarted, now - requestStarted >= bodyDeadline {
            // The request is late: 408 when it is owed the next answer (nothing handed on before it awaits
            // one), then close.
            var owesAnswer = false
            switch mode {
            case .requests: owesAnswer = awaiting == 0
            case .handingOnBody: owesAnswer = awaiting == 1
            case .passThrough: owesAnswer = awaiting == 1
            }
            if owesAnswer {
                let error = APIError(.requestTimeout, "timeout", "the request body did not arrive within \(Int(ServeLimits.bodyReadSeconds)) s")
                write(Answer(status: .requestTimeout, body: error.body, close: true, started: ContinuousClock.now, route: "", method: ""),
                      context: context, record: false)
            } else {
                context.close(promise: nil)
            }
            return
        }
        // Idle: nothing read or written for the timeout, with no answer being computed for a request read
        // whole (a client that stops halfway through a request is closed too).
        let computing = awaiting > 0 && requestStarted == nil
        if now - lastActivity >= idleTimeout, !computing {
            context.close(promise: nil)
            return
        }
        var next = max(lastActivity + idleTimeout, now + .milliseconds(100))
        if let requestStarted { next = min(next, requestStarted + bodyDeadline) }
        scheduleIdleCheck(context: context, at: next)
    }
}

/// A request head as `FastRoutes` reads it: only plain HTTP/1.1 (see its comment); positions are offsets
/// into the bytes parsed.
struct PlainHead {
    enum Method { case get, post, other }
    enum Parse {
        case head(PlainHead)
        case incomplete
        /// Not plain: leave the connection to swift-nio's parser.
        case unusual
    }

    var method = Method.other
    var targetRange = 0..<0
    /// Bytes of the head, its blank line included.
    var length = 0
    var contentLength = 0
    var keepAlive = true
    var expectsContinue = false
    var authorizationRange: Range<Int>?
    var cookieRange: Range<Int>?

    func target(in bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes[targetRange], as: UTF8.self) }
    func authorization(in bytes: UnsafeRawBufferPointer) -> String? { authorizationRange.map { String(decoding: bytes[$0], as: UTF8.self) } }
    func cookie(in bytes: UnsafeRawBufferPointer) -> String? { cookieRange.map { String(decoding: bytes[$0], as: UTF8.self) } }

    /// Token characters (RFC 9110 §5.6.2).
    private static let tokenCharacters: [Bool] = (0..<256).map { byte in
        if byte >= 0x30 && byte <= 0x39 || byte >= 0x41 && byte <= 0x5A || byte >= 0x61 && byte <= 0x7A { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Parse {
        let count = bytes.count
        var head = PlainHead()
        // The line ending at the next LF, which must follow a CR; nil when no LF has arrived yet.
        var position = 0
        func nextLine() -> Range<Int>?? {
            var index = position
            while index < count && bytes[index] != 10 { index += 1 }
            guard index < count else { return .some(nil) }
            guard index > position, bytes[index - 1] == 13 else { return nil }  // a bare LF
            let line = position..<(index - 1)
            position = index + 1
            return .some(line)
        }
        // Request line: METHOD SP target SP HTTP/1.x
        guard let first = nextLine() else { return .unusual }
        guard let line = first else { return count > FastRoutes.headMax ? .unusual : .incomplete }
        var index = line.lowerBound
        while index < line.upperBound && tokenCharacters[Int(bytes[index])] { index += 1 }
        let methodRange = line.lowerBound..<index
        guard !methodRange.isEmpty, index < line.upperBound, bytes[index] == 32 else { return .unusual }
        head.method = Self.method(bytes, methodRange)
        index += 1
        let targetStart = index
        while index < line.upperBound && bytes[index] > 32 && bytes[index] < 127 { index += 1 }
        head.targetRange = targetStart..<index
        guard !head.targetRange.isEmpty, index < line.upperBound, bytes[index] == 32 else { return .unusual }
        index += 1
        let version = Array(bytes[index..<line.upperBound])
        let http11 = version == Array("HTTP/1.1".utf8)
        guard http11 || version == Array("HTTP/1.0".utf8) else { return .unusual }
        var close = false, keepAliveToken = false, sawLength = false
        // Header lines until the blank one.
        while true {
            guard let next = nextLine() else { return .unusual }
            guard let line = next else { return count > FastRoutes.headMax ? .unusual : .incomplete }
            if line.isEmpty { break }
            var index = line.lowerBound
            while index < line.upperBound && tokenCharacters[Int(bytes[index])] { index += 1 }
            let name = line.lowerBound..<index
            // No name (an obs-fold line starts with a space), or no colon right after it.
            guard !name.isEmpty, index < line.upperBound, bytes[index] == UInt8(ascii: ":") else { return .unusual }
            index += 1
            var end = line.upperBound
            while index < end && (bytes[index] == 32 || bytes[index] == 9) { index += 1 }
            while end > index && (bytes[end - 1] == 32 || bytes[end - 1] == 9) { end -= 1 }
            let value = index..<end
            for position in value where bytes[position] < 32 && bytes[position] != 9 || bytes[position] == 127 { return .unusual }
            switch Self.lowercased(bytes, name) {
            case "content-length":
                guard !sawLength, !value.isEmpty, value.count <= 15, value.allSatisfy({ bytes[$0] >= 48 && bytes[$0] <= 57 }) else { return .unusual }
                sawLength = true
                head.contentLength = value.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) }
            case "transfer-encoding", "upgrade":
                return .unusual
            case "connection":
                for option in String(decoding: bytes[value], as: UTF8.self).lowercased().split(separator: ",") {
                    let option = option.trimmingCharacters(in: .whitespaces)
                    if option == "close" { close = true }
                    if option == "keep-alive" { keepAliveToken = true }
                    if option == "upgrade" { return .unusual }
                }
            case "expect":
                head.expectsContinue = true
            case "authorization":
                if head.authorizationRange == nil { head.authorizationRange = value }
            case "cookie":
                if head.cookieRange == nil { head.cookieRange = value }
            default:
                break
            }
        }
        head.length = position
        head.keepAlive = http11 ? !close : keepAliveToken && !close
        return .head(head)
    }

    private static func method(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Method {
        let text = bytes[range]
        if text.elementsEqual("GET".utf8) { return .get }
        if text.elementsEqual("POST".utf8) { return .post }
        return .other
    }

    /// A header name in lower case (names are ASCII tokens).
    private static func lowercased(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: bytes[range].map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
