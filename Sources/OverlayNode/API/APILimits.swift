import NIOCore

/// What one client may ask of the local API, so a local user (or a buggy script) cannot exhaust
/// the daemon's memory, file descriptors or event loop through the socket.
///
/// Every refusal is a JSON error with a stable code, then the connection closes.
public struct APILimits: Sendable, Equatable {
    /// The largest request body, in bytes; more is `413 request_too_large`. Default 64 KiB:
    /// no route reads a body today, and 64 KiB leaves room for a future one (a keyring entry
    /// is under 200 bytes) while bounding what a connection can make the daemon hold.
    public var maxBodyBytes: Int
    /// The largest request line plus headers, in bytes; more is `431 headers_too_large`.
    /// Default 16 KiB: `curl` and `overlayctl` send under 200 bytes; nginx's default is 8 KiB
    /// per header line. (SwiftNIO's parser stops any head at 80 KiB regardless.)
    public var maxHeaderBytes: Int
    /// How many connections may be open at once; one more is answered `503
    /// too_many_connections` and closed. Default 64: a node has a handful of local clients
    /// (overlayctl, a supervisor, a scraper, a few event-stream followers).
    public var maxConnections: Int
    /// How long a client may take to send one request, from its first byte to its last; a
    /// slower one (a "slowloris" dribbling bytes to dodge the idle timeout) is answered `408
    /// request_timeout` and closed. Default 10 s: a local client sends a request in
    /// microseconds, even on a loaded box.
    public var requestTimeout: TimeAmount

    /// The defaults described on each property.
    public static let `default` = APILimits(
        maxBodyBytes: 64 * 1024, maxHeaderBytes: 16 * 1024, maxConnections: 64, requestTimeout: .seconds(10))

    /// Creates limits.
    ///
    /// - Parameters:
    ///   - maxBodyBytes: the largest request body.
    ///   - maxHeaderBytes: the largest request line plus headers.
    ///   - maxConnections: the most connections open at once.
    ///   - requestTimeout: the longest a client may take to send a request.
    public init(maxBodyBytes: Int, maxHeaderBytes: Int, maxConnections: Int, requestTimeout: TimeAmount) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
    }
}

/// The request deadline of one connection, shared by ``RequestClock`` (which sees the first raw
/// byte of a request) and ``APIHTTPHandler`` (which sees its end). Used on the connection's
/// event loop only.
final class RequestDeadline {
    var scheduled: Scheduled<Void>?

    /// The request is complete: the deadline no longer applies.
    func requestComplete() {
        scheduled?.cancel()
        scheduled = nil
    }
}

/// Placed before the HTTP decoder: the first bytes of a request start its deadline, and when
/// it passes before the request is complete, this handler answers `408` itself (below the HTTP
/// handlers, which have no request to answer yet) and closes the connection.
final class RequestClock: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let deadline: RequestDeadline
    private let timeout: TimeAmount
    private let refusal: APIResponse
    private var timedOut = false

    init(deadline: RequestDeadline, timeout: TimeAmount, refusal: APIResponse) {
        self.deadline = deadline
        self.timeout = timeout
        self.refusal = refusal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !timedOut else { return }
        if deadline.scheduled == nil {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            deadline.scheduled = context.eventLoop.scheduleTask(in: timeout) {
                let (handler, context) = bound.value
                handler.timedOut = true
                let bytes = rawHTTPResponse(handler.refusal, reason: "Request Timeout")
                context.writeAndFlush(handler.wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.requestComplete()
        context.fireChannelInactive()
    }
}

/// The whole pipeline of a connection over the limit: one JSON 503, then close.
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: APIResponse

    init(response: APIResponse) { self.response = response }

    func channelActive(context: ChannelHandlerContext) {
        let buffer = rawHTTPResponse(response, reason: "Service Unavailable")
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// A whole HTTP/1.1 response with `Connection: close`, for handlers below the HTTP codec.
func rawHTTPResponse(_ response: APIResponse, reason: String) -> ByteBuffer {
    var text = "HTTP/1.1 \(response.status) \(reason)\r\n"
    for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
    text += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
    var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count + response.body.count)
    buffer.writeString(text)
    buffer.writeBytes(response.body)
    return buffer
}
