import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// The two routes a caller asks most — `GET /v1/features/{msno}` and `POST /v1/score` — answered on the
/// event loop that read them, in the channel pipeline, right after swift-nio's HTTP/1.1 parser, before the
/// request would become framework types and an async task of the router: an online lookup costs
/// microseconds, and the conversion, the task, the router, three middlewares and the body's async stream
/// cost several times that (measured: 95 µs of CPU per request on `/healthz` through the router at scale M, and
/// about 0.7 ms of a score's 2.4 ms at 100 requests a second). Everything else, and any request this path
/// does not answer exactly as the route would, goes on to the router untouched:
///
/// * features: only a GET with no query string, a one-segment msno, and the default view's online table
///   (200, or 404 for an msno the table lacks — the route's own bytes, from `ServeAPI.onlineVector`);
/// * score: a POST with a Content-Length of at most 64 KiB, read whole here, then answered by
///   `ServeAPI.scoreInline` (the route's own code: the same bytes and errors) unless it needs work off the
///   request threads (`as_of`, more than 16 vectors), in which case the request, body included, goes on;
/// * with `--token-file`, a request without the token goes on to the router, which answers 401;
/// * answers stay in request order: while a request handed to the router has not been answered, the
///   requests after it go to the router too;
/// * requests, errors and latency are recorded in the same `RouteStats` as the router's routes.
///
/// The answer is written as the bytes of one HTTP/1.1 response (status line, five headers, body) through
/// the context of the response encoder, which it skips: one buffer, one write. The request is still parsed
/// by swift-nio alone.
///
/// It also keeps the connection's timeouts, as it sees every request: the idle timeout (the framework's own
/// is off, as it would not see the requests answered here) — a connection with nothing read or written for
/// `idleTimeout` is closed, unless an answer is being computed for a request read whole — and the body
/// deadline: a request whose end has not arrived `ServeLimits.bodyReadSeconds` after its head is answered
/// 408 and its connection closed (a timer per connection, where a deadline per request in the router cost
/// a task group and a timer each).
final class FastRoutes: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let featureRoute = "/v1/features/{msno}"
    private static let prefix = Array("/v1/features/".utf8)
    /// Score bodies up to this size are read here; larger ones go to the router as they stream.
    static let scoreBodyMax = 64 << 10

    private let api: ServeAPI
    private let stats: RouteStats
    private let token: [UInt8]?
    private let idleTimeout: TimeAmount

    private enum Current { case none, forwarded, answered(Answer), reading(HTTPRequestHead, ByteBuffer) }
    private struct Answer {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var close: Bool
        var started: ContinuousClock.Instant
        var route: String
        var method: String
    }
    /// The request being read: handed on, or answered here once its end arrives.
    private var current = Current.none
    /// Requests handed to the router whose answer has not ended yet.
    private var pending = 0
    private var lastActivity = NIODeadline.now()
    /// When the head of the request being read arrived.
    private var requestStarted: NIODeadline?
    private let bodyDeadline = TimeAmount.milliseconds(Int64(ServeLimits.bodyReadSeconds * 1000))
    private var idleCheck: Scheduled<Void>?
    private var idleCheckAt: NIODeadline?
    /// The response encoder's context: writes through it go straight to the socket.
    private var socketSide: ChannelHandlerContext?
    /// The Date header of the current second (RFC 9110 §6.6.1), formatted once a second per connection.
    private var dateSecond = 0
    private var dateText = ""

    init(api: ServeAPI, stats: RouteStats, token: [UInt8]?, idleTimeout: TimeAmount) {
        self.api = api
        self.stats = stats
        self.token = token
        self.idleTimeout = idleTimeout
    }

    /// Hummingbird adds its extra handlers after its own conversion to HTTP types; this handler belongs in
    /// front of that conversion, so what Hummingbird adds is this installer, which puts the handler there
    /// and steps out of the pipeline.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let make: () -> FastRoutes

        init(_ make: @escaping () -> FastRoutes) { self.make = make }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let codec = try? pipeline.handler(type: HTTP1ToHTTPServerCodec.self) {
                try? pipeline.addHandler(make(), position: .before(codec))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        socketSide = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
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
        socketSide = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let request):
            requestStarted = lastActivity
            if pending == 0, socketSide != nil, let answer = answer(request) {
                current = .answered(answer)
                return
            }
            // The body deadline needs a check before the idle one would come.
            if let at = idleCheckAt, at > lastActivity + bodyDeadline { scheduleIdleCheck(context: context, at: lastActivity + bodyDeadline) }
            if pending == 0, socketSide != nil, readsScore(request) {
                current = .reading(request, context.channel.allocator.buffer(capacity: 256))
            } else {
                current = .forwarded
                pending += 1
                context.fireChannelRead(data)
            }
        case .body(var part):
            switch current {
            case .answered:
                return  // a GET answered here has no use for a body
            case .reading(let head, var buffer):
                current = .none  // no copy of the buffer while it grows
                buffer.writeBuffer(&part)
                if buffer.readableBytes > Self.scoreBodyMax {
                    handOn(head, buffer, context: context)
                } else {
                    current = .reading(head, buffer)
                }
            default:
                context.fireChannelRead(data)
            }
        case .end:
            requestStarted = nil
            switch current {
            case .answered(let answer):
                current = .none
                write(answer)
            case .reading(let head, let buffer):
                current = .none
                if let answer = score(head, body: Array(buffer.readableBytesView)) {
                    write(answer)
                } else {
                    handOn(head, buffer, context: context)
                    current = .none
                    context.fireChannelRead(data)
                }
            default:
                current = .none
                context.fireChannelRead(data)
            }
        }
    }

    /// Gives the router a request read here so far (its head and the body bytes received).
    private func handOn(_ head: HTTPRequestHead, _ body: ByteBuffer, context: ChannelHandlerContext) {
        current = .forwarded
        pending += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    /// Whether to read a `POST /v1/score` body here: a declared length this path holds, and the token.
    private func readsScore(_ request: HTTPRequestHead) -> Bool {
        guard request.method == .POST, request.uri == "/v1/score", !request.headers.contains(name: "transfer-encoding"),
              !request.headers.contains(name: "expect"), let length = request.headers.first(name: "content-length").flatMap({ Int($0) }),
              length <= Self.scoreBodyMax else { return false }
        return allowed(request)
    }

    /// The route's answer to a score body, or nil when the router must answer (work off the event loop).
    private func score(_ request: HTTPRequestHead, body: [UInt8]) -> Answer? {
        let started = ContinuousClock.now
        do {
            guard let answer = try api.scoreInline(body: body) else { return nil }
            return Answer(status: .ok, body: answer, close: !request.isKeepAlive, started: started, route: "/v1/score", method: "POST")
        } catch let error as APIError {
            return Answer(status: HTTPResponseStatus(statusCode: Int(error.status.code)), body: error.body, close: !request.isKeepAlive,
                          started: started, route: "/v1/score", method: "POST")
        } catch {
            return nil  // the router answers, and logs, what the API does not name
        }
    }

    private func allowed(_ request: HTTPRequestHead) -> Bool {
        guard let token else { return true }
        return TokenMiddleware<BasicRequestContext>.allows(authorization: request.headers.first(name: "authorization"),
                                                           cookie: request.headers.first(name: "cookie"), token: token)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            pending = max(0, pending - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    /// The answer for a request this path serves, or nil to hand it on.
    private func answer(_ request: HTTPRequestHead) -> Answer? {
        guard request.method == .GET else { return nil }
        let uri = request.uri.utf8
        guard uri.count > Self.prefix.count, uri.starts(with: Self.prefix) else { return nil }
        let segment = uri.dropFirst(Self.prefix.count)
        // A query (?view=, ?as_of=) or a second segment: the router's validation and messages apply.
        guard !segment.contains(UInt8(ascii: "?")), !segment.contains(UInt8(ascii: "/")) else { return nil }
        guard allowed(request) else { return nil }
        guard let msno = Self.percentDecoded(segment), !msno.isEmpty else { return nil }
        let started = ContinuousClock.now
        let snapshot = api.state.snapshot
        guard let view = api.defaultView(snapshot) else { return nil }
        do {
            guard let body = try api.onlineVector(msno: msno, view: view, day: nil, snapshot: snapshot) else { return nil }
            return Answer(status: .ok, body: body, close: !request.isKeepAlive, started: started, route: Self.featureRoute, method: "GET")
        } catch let error as APIError {
            return Answer(status: HTTPResponseStatus(statusCode: Int(error.status.code)), body: error.body, close: !request.isKeepAlive,
                          started: started, route: Self.featureRoute, method: "GET")
        } catch {
            return nil
        }
    }

    /// `%XX` escapes decoded; nil for a malformed escape or bytes that are not UTF-8 (the router then answers),
    /// as Foundation's `removingPercentEncoding` decides, without its cost.
    static func percentDecoded(_ text: Substring.UTF8View) -> String? {
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
        return String(validating: bytes, as: UTF8.self)
    }

    private func write(_ answer: Answer, record: Bool = true) {
        guard let socketSide else { return }
        var head = "HTTP/1.1 \(answer.status.code) \(answer.status.reasonPhrase)\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
        head += "Content-Length: \(answer.body.count)\r\nDate: \(httpDate())\r\nServer: strata\r\n"
        if answer.close { head += "Connection: close\r\n" }
        head += "\r\n"
        var buffer = socketSide.channel.allocator.buffer(capacity: head.utf8.count + answer.body.count)
        buffer.writeString(head)
        buffer.writeBytes(answer.body)
        if answer.close {
            let channel = socketSide.channel
            socketSide.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            socketSide.writeAndFlush(NIOAny(buffer), promise: nil)
        }
        lastActivity = .now()
        if record {
            stats.record(route: answer.route, method: answer.method, status: Int(answer.status.code), elapsed: ContinuousClock.now - answer.started)
        }
    }

    private func httpDate() -> String {
        var now = time(nil)
        if now != dateSecond {
            var parts = tm()
            gmtime_r(&now, &parts)
            var text = [CChar](repeating: 0, count: 64)
            let length = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            dateText = String(decoding: text[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            dateSecond = now
        }
        return dateText
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
        guard context.channel.isActive else { return }
        let now = NIODeadline.now()
        if let requestStarted, now - requestStarted >= bodyDeadline {
            // The request's body is late: 408 when the router owes this request the next answer, then close.
            var owesAnswer = false
            if pending == 1, case .forwarded = current { owesAnswer = true }
            if pending == 0, case .reading = current { owesAnswer = true }
            if owesAnswer {
                let error = APIError(.requestTimeout, "timeout", "the request body did not arrive within \(Int(ServeLimits.bodyReadSeconds)) s")
                write(Answer(status: .requestTimeout, body: error.body, close: true, started: ContinuousClock.now, route: "", method: ""), record: false)
            } else {
                context.close(promise: nil)
            }
            return
        }
        // Idle: nothing read or written for the timeout, with no answer being computed for a request read
        // whole (a client that stops halfway through a request is closed too).
        var computing = false
        if pending > 0, case .none = current { computing = true }
        if now - lastActivity >= idleTimeout, !computing {
            context.close(promise: nil)
            return
        }
        var next = max(lastActivity + idleTimeout, now + .milliseconds(100))
        if let requestStarted { next = min(next, requestStarted + bodyDeadline) }
        scheduleIdleCheck(context: context, at: next)
    }
}
