import Foundation
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// `GET /v1/features/{msno}` answered on the event loop that read it, in the channel pipeline, before the
/// request would become an async task of the router: the online lookup costs microseconds, and the task,
/// the router and three middlewares around it cost several times that (measured: 113 µs of CPU per request
/// on `/healthz` through the router). Everything else, and any request this path does not answer
/// exactly as the route would, goes on to the router untouched:
///
/// * only a GET with no query string, a one-segment msno, and the default view's online table answers
///   here (200, or 404 for an msno the table lacks — the route's own bytes, from `ServeAPI.onlineVector`);
/// * with `--token-file`, a request without the token goes on to the router, which answers 401;
/// * answers stay in request order: while a request handed to the router has not been answered, the
///   requests after it go to the router too;
/// * requests, errors and latency are recorded in the same `RouteStats` as the router's routes.
///
/// It also keeps the connection's idle timeout (the framework's own is off, as it would not see the requests
/// answered here): a connection with nothing read or written for `idleTimeout` is closed, unless an answer
/// is being computed for a request read whole.
final class FeatureFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    static let route = "/v1/features/{msno}"
    private static let prefix = Array("/v1/features/".utf8)

    private let api: ServeAPI
    private let stats: RouteStats
    private let token: [UInt8]?
    private let idleTimeout: TimeAmount

    private enum Current { case none, forwarded, answered(Answer) }
    private struct Answer { var status: HTTPResponse.Status; var body: [UInt8]; var close: Bool; var started: ContinuousClock.Instant }
    /// The request being read: handed on, or answered here once its end arrives.
    private var current = Current.none
    /// Requests handed to the router whose answer has not ended yet.
    private var pending = 0
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// The Date header of the current second (RFC 9110 §6.6.1), formatted once a second per connection.
    private var dateSecond = 0
    private var dateText = ""

    init(api: ServeAPI, stats: RouteStats, token: [UInt8]?, idleTimeout: TimeAmount) {
        self.api = api
        self.stats = stats
        self.token = token
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
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
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let request):
            if pending == 0, let answer = answer(request) {
                current = .answered(answer)
            } else {
                current = .forwarded
                pending += 1
                context.fireChannelRead(data)
            }
        case .body:
            // A GET answered here has no use for a body; the router's requests get theirs.
            if case .answered = current { return }
            context.fireChannelRead(data)
        case .end:
            guard case .answered(let answer) = current else {
                current = .none
                context.fireChannelRead(data)
                return
            }
            current = .none
            write(answer, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            pending = max(0, pending - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    /// The answer for a request this path serves, or nil to hand it on.
    private func answer(_ request: HTTPRequest) -> Answer? {
        guard request.method == .get, let path = request.path else { return nil }
        let bytes = Array(path.utf8)
        guard bytes.count > Self.prefix.count, bytes.starts(with: Self.prefix) else { return nil }
        let segment = bytes[Self.prefix.count...]
        // A query (?view=, ?as_of=) or a second segment: the router's validation and messages apply.
        guard !segment.contains(UInt8(ascii: "?")), !segment.contains(UInt8(ascii: "/")) else { return nil }
        if let token, !TokenMiddleware<BasicRequestContext>.allows(request.headerFields, token: token) { return nil }
        guard let msno = String(decoding: segment, as: UTF8.self).removingPercentEncoding, !msno.isEmpty else { return nil }
        let started = ContinuousClock.now
        let snapshot = api.state.snapshot
        guard let view = api.defaultView(snapshot) else { return nil }
        let close = request.headerFields[.connection].map { $0.lowercased().contains("close") } ?? false
        do {
            guard let body = try api.onlineVector(msno: msno, view: view, day: nil, snapshot: snapshot) else { return nil }
            return Answer(status: .ok, body: body, close: close, started: started)
        } catch let error as APIError {
            return Answer(status: error.status, body: error.body, close: close, started: started)
        } catch {
            return nil
        }
    }

    private func write(_ answer: Answer, context: ChannelHandlerContext) {
        var head = HTTPResponse(status: answer.status)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.cacheControl] = "no-store"
        head.headerFields[.contentLength] = String(answer.body.count)
        head.headerFields[.date] = httpDate()
        head.headerFields[.server] = "strata"
        if answer.close { head.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: answer.body))), promise: nil)
        if answer.close {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        stats.record(route: Self.route, method: "GET", status: Int(answer.status.code), elapsed: ContinuousClock.now - answer.started)
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
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.idleCheckFired(context: context)
        }
    }

    private func idleCheckFired(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        // Idle: nothing read or written for the timeout, with no answer being computed for a request read
        // whole (a client that stops halfway through a request is closed too).
        var computing = false
        if pending > 0, case .none = current { computing = true }
        if NIODeadline.now() - lastActivity >= idleTimeout, !computing {
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(context: context, at: max(lastActivity + idleTimeout, .now() + .milliseconds(100)))
        }
    }
}
