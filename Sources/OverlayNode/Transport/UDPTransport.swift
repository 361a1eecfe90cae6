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
public final class UDPTransport: Sendable {
    /// The received datagrams, in arrival order.
    public let datagrams: AsyncStream<ReceivedDatagram>
    /// The address actually bound (useful when binding port 0).
    public let localAddress: PeerEndpoint
    private let channel: any Channel
    private let resolver = EndpointResolver()

    private init(channel: any Channel, datagrams: AsyncStream<ReceivedDatagram>, localAddress: PeerEndpoint) {
        self.channel = channel
        self.datagrams = datagrams
        self.localAddress = localAddress
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
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(InboundHandler(continuation: continuation))
                    }
                }
                .bind(host: endpoint.host, port: Int(endpoint.port))
                .get()
        } catch {
            throw StateError("cannot bind UDP \(endpoint): \(error); is another overlayd using it? choose another 'network.bind'")
        }
        let bound = channel.localAddress.flatMap { address -> PeerEndpoint? in
            guard let ip = address.ipAddress, let port = address.port else { return nil }
            return PeerEndpoint(host: ip, port: UInt16(port))
        } ?? endpoint
        return UDPTransport(channel: channel, datagrams: stream, localAddress: bound)
    }

    /// Sends one datagram; errors (an unreachable host) are returned, not thrown, since UDP is
    /// best effort and the protocol copes with loss.
    public func send(_ bytes: Data, to endpoint: PeerEndpoint) -> (any Error)? {
        let address: SocketAddress
        do {
            address = try resolver.resolve(endpoint)
        } catch {
            return error
        }
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        return nil
    }

    /// Closes the socket.
    public func close() async {
        try? await channel.close()
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

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
        }

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
