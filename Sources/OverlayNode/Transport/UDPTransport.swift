import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OverlayCore

/// One received UDP payload.
public struct ReceivedDatagram: Sendable {
    /// The payload.
    public let bytes: Data
    /// Where it came from.
    public let source: PeerEndpoint
}

/// The UDP socket, with SwiftNIO.
///
/// Received payloads are read by a plain channel handler (about twice as fast as
/// `NIOAsyncChannel` for small datagrams) and handed in order to one consumer through
/// ``datagrams``. Payloads larger than the budget are still delivered, so the core counts them
/// as oversized.
///
/// The socket reopens itself. SwiftNIO closes a datagram channel when `sendto` fails with an
/// error it does not class as recoverable, and "network is unreachable" (`ENETUNREACH`: no
/// route at all, as on a mesh node that boots before its routing daemon has learned a route,
/// or after a link loss retracts the last one) is such an error. A node whose socket closed
/// that way would stay deaf and mute for good; instead the transport binds the same address
/// again (every 200 ms until it succeeds) and keeps feeding the same ``datagrams`` stream.
public final class UDPTransport: Sendable {
    /// The received datagrams, in arrival order.
    public let datagrams: AsyncStream<ReceivedDatagram>
    /// The address actually bound (useful when binding port 0).
    public let localAddress: PeerEndpoint
    private let group: any EventLoopGroup
    private let continuation: AsyncStream<ReceivedDatagram>.Continuation
    private let state = NIOLockedValueBox(SocketState())
    private let resolver = EndpointResolver()

    private struct SocketState {
        var channel: (any Channel)?
        var closed = false
        var reopened = 0
    }

    private init(group: any EventLoopGroup, localAddress: PeerEndpoint,
                 datagrams: AsyncStream<ReceivedDatagram>, continuation: AsyncStream<ReceivedDatagram>.Continuation) {
        self.group = group
        self.localAddress = localAddress
        self.datagrams = datagrams
        self.continuation = continuation
    }

    /// Binds a UDP socket.
    ///
    /// - Parameters:
    ///   - endpoint: the host and port to bind.
    ///   - group: the event loop group to run on.
    /// - Throws: a ``StateError`` naming the address if it cannot be bound.
    public static func bind(_ endpoint: PeerEndpoint, group: any EventLoopGroup) async throws -> UDPTransport {
        let (stream, continuation) = AsyncStream<ReceivedDatagram>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let channel: any Channel
        do {
            channel = try await open(endpoint, group: group, continuation: continuation)
        } catch {
            throw StateError("cannot bind UDP \(endpoint): \(error); is another overlayd using it? choose another 'network.bind'")
        }
        let bound = channel.localAddress.flatMap { address -> PeerEndpoint? in
            guard let ip = address.ipAddress, let port = address.port else { return nil }
            return PeerEndpoint(host: ip, port: UInt16(port))
        } ?? endpoint
        let transport = UDPTransport(group: group, localAddress: bound, datagrams: stream, continuation: continuation)
        transport.adopt(channel)
        return transport
    }

    /// How many times the socket was closed under the daemon and bound again.
    public var reopenCount: Int { state.withLockedValue { $0.reopened } }

    /// Sends one datagram; errors (an unreachable host) are returned, not thrown, since UDP is
    /// best effort and the protocol copes with loss.
    public func send(_ bytes: Data, to endpoint: PeerEndpoint) -> (any Error)? {
        let address: SocketAddress
        do {
            address = try resolver.resolve(endpoint)
        } catch {
            return error
        }
        guard let channel = state.withLockedValue({ $0.channel }) else {
            return StateError("the UDP socket is being reopened")
        }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        return nil
    }

    /// Closes the socket for good and ends ``datagrams``.
    public func close() async {
        let channel = state.withLockedValue { state -> (any Channel)? in
            state.closed = true
            defer { state.channel = nil }
            return state.channel
        }
        try? await channel?.close()
        continuation.finish()
    }

    /// Closes the current socket as SwiftNIO does after a fatal send error, for tests of the
    /// reopening.
    func dropSocketForTesting() async {
        try? await state.withLockedValue({ $0.channel })?.close()
    }

    private static func open(
        _ endpoint: PeerEndpoint, group: any EventLoopGroup, continuation: AsyncStream<ReceivedDatagram>.Continuation
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundHandler(continuation: continuation))
                }
            }
            .bind(host: endpoint.host, port: Int(endpoint.port))
            .get()
    }

    /// Makes `channel` the socket in use, and arranges for a new one when it closes by itself.
    private func adopt(_ channel: any Channel) {
        let keep = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.channel = channel
            return true
        }
        guard keep else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in self?.socketClosed(channel) }
    }

    private func socketClosed(_ channel: any Channel) {
        let reopen = state.withLockedValue { state -> Bool in
            guard !state.closed, state.channel === channel else { return false }
            state.channel = nil
            state.reopened += 1
            return true
        }
        guard reopen else { return }
        Task { [weak self] in await self?.reopen() }
    }

    private func reopen() async {
        while !state.withLockedValue({ $0.closed }) {
            if let channel = try? await Self.open(localAddress, group: group, continuation: continuation) {
                adopt(channel)
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private final class InboundHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let continuation: AsyncStream<ReceivedDatagram>.Continuation

        init(continuation: AsyncStream<ReceivedDatagram>.Continuation) { self.continuation = continuation }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let ip = envelope.remoteAddress.ipAddress, let port = envelope.remoteAddress.port else { return }
            let bytes = Data(envelope.data.readableBytesView)
            continuation.yield(ReceivedDatagram(bytes: bytes, source: PeerEndpoint(host: ip, port: UInt16(port))))
        }

        // No channelInactive: the stream outlives one socket and ends in UDPTransport.close().

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // ICMP port unreachable and the like surface here; UDP is best effort, keep reading.
        }
    }
}

/// Resolves endpoints to socket addresses once and remembers them.
final class EndpointResolver: Sendable {
    private let cache = NIOLockedValueBox<[PeerEndpoint: SocketAddress]>([:])

    func resolve(_ endpoint: PeerEndpoint) throws -> SocketAddress {
        if let known = cache.withLockedValue({ $0[endpoint] }) { return known }
        let address = try SocketAddress.makeAddressResolvingHost(endpoint.host, port: Int(endpoint.port))
        cache.withLockedValue { $0[endpoint] = address }
        return address
    }
}
