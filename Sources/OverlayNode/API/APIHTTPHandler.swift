import Foundation
import NIOCore
import NIOHTTP1
import OverlayAPI

/// The NIO handler of one API connection: hands each complete request to ``APIRouter`` and
/// writes the ``APIResponse`` back, either whole or as a stream.
///
/// Placed after `configureHTTPServerPipeline`, whose pipelining handler delivers one request at a
/// time, so responses leave in request order even though the router answers asynchronously.
///
/// A streamed response (``APIResponse/stream``, the event stream) is written with chunked
/// encoding: the head at once, then one chunk per element, each flushed and awaited before the
/// next (a slow client makes the stream's buffer drop its oldest elements, never the node
/// wait). It ends when the stream finishes (terminating chunk), when the client goes away
/// (the stream's iteration is cancelled), or when the server stops (``APIServerStopping``:
/// terminating chunk, then close). The read-idle timeout does not apply while streaming: the
/// client has nothing to say.
final class APIHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: APIRouter
    private let limits: APILimits
    private let deadline: RequestDeadline
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    /// Set once the connection was refused (a limit): nothing more is read from it.
    private var refused = false
    private var caller: APICaller = .unidentified
    /// The task feeding a streamed response, while one is being written.
    private var streamTask: Task<Void, Never>?

    init(router: APIRouter, limits: APILimits = .default, deadline: RequestDeadline = RequestDeadline()) {
        self.router = router
        self.limits = limits
        self.deadline = deadline
    }

    /// Answers with a limit's JSON error, then closes the connection.
    private func refuse(_ rejection: APIRejection, for request: HTTPRequestHead?, context: ChannelHandlerContext) {
        guard !refused else { return }
        refused = true
        head = nil
        deadline.requestComplete()
        var request = request ?? HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        request.headers.replaceOrAdd(name: "Connection", value: "close")
        write(router.errorResponse(rejection), for: request, context: context)
    }

    /// The bytes of a request line and headers as they were sent (give or take whitespace).
    private static func headSize(_ head: HTTPRequestHead) -> Int {
        head.method.rawValue.utf8.count + head.uri.utf8.count + 12
            + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    func channelActive(context: ChannelHandlerContext) {
        APICaller.credentials(of: context.channel).assumeIsolated().whenSuccess { caller in
            self.caller = caller
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard Self.headSize(head) <= limits.maxHeaderBytes else {
                refuse(.headersTooLarge(limit: limits.maxHeaderBytes), for: head, context: context)
                return
            }
            self.head = head
            bodyBytes = 0
        case .body(let part):
            // No route reads a body; it is counted (against the limit) and ignored.
            bodyBytes += part.readableBytes
            if bodyBytes > limits.maxBodyBytes {
                refuse(.requestTooLarge(limit: limits.maxBodyBytes), for: head, context: context)
            }
        case .end:
            deadline.requestComplete()
            guard let head else { return }
            self.head = nil
            let router = self.router
            let method = head.method.rawValue
            let uri = head.uri
            let caller = self.caller
            let promise = context.eventLoop.makePromise(of: APIResponse.self)
            promise.completeWithTask { await router.respond(method: method, uri: uri, caller: caller) }
            promise.futureResult.assumeIsolated().whenSuccess { response in
                if let stream = response.stream {
                    self.writeStream(response, stream: stream, for: head, context: context)
                } else {
                    self.write(response, for: head, context: context)
                }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopStreaming()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopStreaming()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // A client that connected and went quiet, unless it is following a stream.
            if streamTask == nil { context.close(promise: nil) }
        } else if event is APIServerStopping {
            if streamTask != nil {
                stopStreaming()
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func stopStreaming() {
        streamTask?.cancel()
        streamTask = nil
    }

    private func responseHead(
        _ response: APIResponse, for request: HTTPRequestHead, keepAlive: Bool, contentLength: Int?
    ) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) {
            headers.add(name: name, value: value)
        }
        if let contentLength {
            headers.add(name: "Content-Length", value: String(contentLength))
        } else if request.version.major == 1, request.version.minor >= 1 {
            headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        return HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
    }

    private func write(_ response: APIResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive
        let head = responseHead(response, for: request, keepAlive: keepAlive, contentLength: response.body.count)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Writes the head now, then each chunk of the stream as it comes, from a task that hops to
    /// the event loop for every write and waits for it, so chunks leave in order.
    private func writeStream(
        _ response: APIResponse, stream: APIBodyStream, for request: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else { return }
        // HTTP/1.0 has no chunked encoding: the end of the body is the end of the connection.
        let chunked = request.version.major == 1 && request.version.minor >= 1
        let keepAlive = request.isKeepAlive && chunked
        let head = responseHead(response, for: request, keepAlive: keepAlive, contentLength: nil)
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        if request.method == .HEAD {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }

        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let chunks = stream.chunks
        streamTask = Task {
            for await chunk in chunks {
                let written = eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                    let (handler, context) = bound.value
                    guard handler.streamTask != nil, context.channel.isActive else {
                        return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                    }
                    var buffer = context.channel.allocator.buffer(capacity: chunk.count)
                    buffer.writeBytes(chunk)
                    return context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer))))
                }
                do {
                    try await written.get()
                } catch {
                    return  // the client went away or the server is stopping
                }
            }
            guard !Task.isCancelled else { return }
            // The stream finished: end the response like a full one.
            eventLoop.execute {
                let (handler, context) = bound.value
                guard handler.streamTask != nil, context.channel.isActive else { return }
                handler.streamTask = nil
                let written = context.writeAndFlush(handler.wrapOutboundOut(.end(nil)))
                if !keepAlive {
                    written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
            }
        }
    }
}

/// Sent through every connection's pipeline by ``APIServer/stop()`` before it closes them, so a
/// streamed response ends with its terminating chunk rather than in the middle of nowhere.
struct APIServerStopping: Sendable {}
