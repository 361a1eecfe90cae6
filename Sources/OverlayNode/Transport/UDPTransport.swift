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
///
/// Every datagram that reaches the socket is accounted for (``statistics()``): a datagram is
/// either handed to the consumer, or dropped by the kernel because the socket's receive buffer
/// was full (the socket's own drop counter, `SO_MEMINFO`, the figure `/proc/net/udp` shows), or
/// dropped from the queue between the socket and the consumer when that queue holds
/// ``defaultQueueLimit`` datagrams already (the oldest goes, so the newest, most relevant ones
/// stay). The receive buffer is asked to be ``defaultReceiveBufferBytes``; what the kernel
/// granted is in the statistics.
public final class UDPTransport: Sendable {
    /// The receive buffer asked for, by default: 2 MiB, as hashicorp/memberlist asks. Linux's
    /// default (`net.core.rmem_default`, 208 KiB) holds only about 270 small datagrams (each
    /// costs its payload plus about 768 bytes of kernel bookkeeping), a burst that a 1,000-datagram
    /// flood overruns in a millisecond; 2 MiB holds about 2,700. Without `CAP_NET_ADMIN` the
    /// kernel grants at most `net.core.rmem_max`.
    public static let defaultReceiveBufferBytes = 2 * 1024 * 1024
    /// The queue between the socket and the consumer, by default: 4,096 datagrams, about one
    /// second of the agent's work at its slowest (one signature check each, about 48 µs, and
    /// the actor's other work), and at most 8 MiB of payloads at the 2,048-byte read size.
    public static let defaultQueueLimit = 4096

    /// Datagrams read per system call (`recvmmsg`).
    static let datagramsPerRead = 32
    /// The received datagrams, in arrival order.
    public let datagrams: AsyncStream<ReceivedDatagram>
    /// The address actually bound (useful when binding port 0).
    public let localAddress: PeerEndpoint
    private let group: any EventLoopGroup
    private let continuation: AsyncStream<ReceivedDatagram>.Continuation
    private let state = NIOLockedValueBox(SocketState())
    private let resolver = EndpointResolver()
    private let counters: ReceiveCounters
    /// The receive buffer asked for at every bind.
    public let requestedReceiveBufferBytes: Int

    private struct SocketState {
        var channel: (any Channel)?
        var closed = false
        var reopened = 0
        /// The kernel drops last read from the socket in use.
        var currentDrops = 0
        /// The kernel drops of the sockets closed before it (last read from each).
        var earlierDrops = 0
        /// The receive buffer the kernel granted the socket in use, as it reports it.
        var grantedBuffer = 0
        /// Samples the socket's drop counter every second, so a socket that closes loses at most
        /// the last second's figure.
        var sampler: RepeatedTask?
    }

    private init(group: any EventLoopGroup, localAddress: PeerEndpoint, receiveBuffer: Int, counters: ReceiveCounters,
                 datagrams: AsyncStream<ReceivedDatagram>, continuation: AsyncStream<ReceivedDatagram>.Continuation) {
        self.group = group
        self.localAddress = localAddress
        self.requestedReceiveBufferBytes = receiveBuffer
        self.counters = counters
        self.datagrams = datagrams
        self.continuation = continuation
    }

    /// Binds a UDP socket.
    ///
    /// - Parameters:
    ///   - endpoint: the host and port to bind.
    ///   - group: the event loop group to run on.
    ///   - receiveBuffer: the socket receive buffer to ask for, in bytes; default
    ///     ``defaultReceiveBufferBytes``. The kernel may grant less (``TransportStatistics/receiveBufferBytes``).
    ///   - queueLimit: how many datagrams may wait between the socket and the consumer before the
    ///     oldest is dropped (and counted); default ``defaultQueueLimit``.
    /// - Throws: a ``StateError`` naming the address if it cannot be bound.
    public static func bind(
        _ endpoint: PeerEndpoint, group: any EventLoopGroup,
        receiveBuffer: Int = UDPTransport.defaultReceiveBufferBytes, queueLimit: Int = UDPTransport.defaultQueueLimit,
        senderRate: (perSecond: Double, burst: Double)? = nil
    ) async throws -> UDPTransport {
        let (stream, continuation) = AsyncStream<ReceivedDatagram>.makeStream(bufferingPolicy: .bufferingNewest(max(1, queueLimit)))
        let counters = ReceiveCounters(gate: senderRate.map { SenderRateGate(ratePerSecond: $0.perSecond, burst: $0.burst) })
        let channel: any Channel
        do {
            channel = try await open(endpoint, group: group, continuation: continuation, counters: counters)
        } catch {
            throw StateError("cannot bind UDP \(endpoint): \(error); is another overlayd using it? choose another 'network.bind'")
        }
        let bound = channel.localAddress.flatMap { address -> PeerEndpoint? in
            guard let ip = address.ipAddress, let port = address.port else { return nil }
            return PeerEndpoint(host: ip, port: UInt16(port))
        } ?? endpoint
        let transport = UDPTransport(
            group: group, localAddress: bound, receiveBuffer: receiveBuffer, counters: counters,
            datagrams: stream, continuation: continuation)
        await transport.adopt(channel)
        return transport
    }

    /// Where the received datagrams went, read now from the socket and the queue.
    ///
    /// A datagram that reached the socket is counted in exactly one of: handed to the consumer
    /// (the consumer counts those), ``TransportStatistics/queueDrops``,
    /// ``TransportStatistics/kernelDrops``, or still waiting (in the kernel's buffer or in the
    /// queue). The kernel's figure is the socket's own drop counter; on a system that does not
    /// report it (not Linux) it stays 0.
    public func statistics() async -> TransportStatistics {
        let channel = state.withLockedValue { $0.channel }
        if let channel { await Self.sampleDrops(of: channel, into: self) }
        let (kernel, granted) = state.withLockedValue { ($0.earlierDrops + $0.currentDrops, $0.grantedBuffer) }
        let (read, dropped, gated) = counters.values
        return TransportStatistics(
            datagramsRead: read, queueDrops: dropped, kernelDrops: kernel, receiveBufferBytes: granted,
            requestedReceiveBufferBytes: requestedReceiveBufferBytes, senderRateDrops: gated)
    }

    /// How many times the socket was closed under the daemon and bound again.
    public var reopenCount: Int { state.withLockedValue { $0.reopened } }

    /// The keys the per-sender gate tracks by key (the keyring's); any other datagram is
    /// tracked by its source address. Call at start and after each keyring reload.
    public func admitSenders(_ keys: some Sequence<Data>) { counters.setAdmitted(Set(keys)) }

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
            state.sampler?.cancel()
            state.sampler = nil
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

    /// Stops or resumes reading the socket, so tests can fill the kernel's receive buffer.
    func setReadingForTesting(_ reading: Bool) async throws {
        try await state.withLockedValue({ $0.channel })?.setOption(.autoRead, value: reading).get()
    }

    private static func open(
        _ endpoint: PeerEndpoint, group: any EventLoopGroup, continuation: AsyncStream<ReceivedDatagram>.Continuation,
        counters: ReceiveCounters
    ) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            // recvmmsg: up to 32 datagrams per system call, so a flood is read (and gated) as
            // fast as it comes rather than piling up in the kernel's buffer. NIO splits the
            // read buffer evenly between them: 2,048 bytes each, above the 1,200-byte budget,
            // so an oversized datagram is still seen whole enough to be refused as such.
            .channelOption(.datagramVectorReadMessageCount, value: Self.datagramsPerRead)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048 * Self.datagramsPerRead))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundHandler(continuation: continuation, counters: counters))
                }
            }
            .bind(host: endpoint.host, port: Int(endpoint.port))
            .get()
    }

    /// Asks for the receive buffer and returns what the kernel granted, as it reports it (Linux
    /// reports twice the size asked, the second half being its bookkeeping allowance).
    ///
    /// `SO_RCVBUFFORCE` first, which exceeds `net.core.rmem_max` for a process with
    /// `CAP_NET_ADMIN`; then `SO_RCVBUF`, which the kernel caps at `net.core.rmem_max`.
    private static func growReceiveBuffer(of channel: any Channel, to bytes: Int) async -> Int {
        let size = SocketOptionValue(clamping: bytes)
        #if os(Linux)
        let force = ChannelOptions.Types.SocketOption(level: SocketOptionLevel(SOL_SOCKET), name: 33)  // SO_RCVBUFFORCE
        if (try? await channel.setOption(force, value: size).get()) == nil {
            try? await channel.setOption(.socketOption(.so_rcvbuf), value: size).get()
        }
        #else
        try? await channel.setOption(.socketOption(.so_rcvbuf), value: size).get()
        #endif
        return Int((try? await channel.getOption(.socketOption(.so_rcvbuf)).get()) ?? 0)
    }

    /// Reads the socket's kernel drop counter into the state, if `channel` is still the socket in use.
    private static func sampleDrops(of channel: any Channel, into transport: UDPTransport) async {
        guard let drops = await kernelDrops(of: channel) else { return }
        transport.state.withLockedValue { state in
            if state.channel === channel { state.currentDrops = max(state.currentDrops, drops) }
        }
    }

    /// The socket's drop counter (`SO_MEMINFO`'s `SK_MEMINFO_DROPS`): datagrams the kernel
    /// discarded for this socket, above all because its receive buffer was full.
    private static func kernelDrops(of channel: any Channel) async -> Int? {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<SocketMemoryInfo> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(55))  // SO_MEMINFO
        return (try? await future.get()).map { Int($0.drops) }
        #else
        return nil
        #endif
    }

    /// Makes `channel` the socket in use, and arranges for a new one when it closes by itself.
    private func adopt(_ channel: any Channel) async {
        let granted = await Self.growReceiveBuffer(of: channel, to: requestedReceiveBufferBytes)
        let sampler = channel.eventLoop.scheduleRepeatedAsyncTask(initialDelay: .seconds(1), delay: .seconds(1)) {
            [weak self] _ in
            guard let self else { return channel.eventLoop.makeSucceededVoidFuture() }
            let promise = channel.eventLoop.makePromise(of: Void.self)
            promise.completeWithTask { await Self.sampleDrops(of: channel, into: self) }
            return promise.futureResult
        }
        let keep = state.withLockedValue { state -> Bool in
            guard !state.closed else { return false }
            state.channel = channel
            state.currentDrops = 0
            state.grantedBuffer = granted
            state.sampler?.cancel()
            state.sampler = sampler
            return true
        }
        guard keep else {
            sampler.cancel()
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
            state.earlierDrops += state.currentDrops
            state.currentDrops = 0
            state.sampler?.cancel()
            state.sampler = nil
            return true
        }
        guard reopen else { return }
        Task { [weak self] in await self?.reopen() }
    }

    private func reopen() async {
        while !state.withLockedValue({ $0.closed }) {
            if let channel = try? await Self.open(localAddress, group: group, continuation: continuation, counters: counters) {
                await adopt(channel)
                return
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    private final class InboundHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let continuation: AsyncStream<ReceivedDatagram>.Continuation
        let counters: ReceiveCounters

        init(continuation: AsyncStream<ReceivedDatagram>.Continuation, counters: ReceiveCounters) {
            self.continuation = continuation
            self.counters = counters
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            // A datagram always comes from an IP address and port; the placeholder keeps the
            // count exact should one ever not (the core then fails to answer it, nothing more).
            let ip = envelope.remoteAddress.ipAddress ?? "0.0.0.0"
            let port = envelope.remoteAddress.port ?? 0
            guard counters.admit(envelope.data, host: ip, port: port) else { return }
            let bytes = Data(envelope.data.readableBytesView)
            let result = continuation.yield(ReceivedDatagram(bytes: bytes, source: PeerEndpoint(host: ip, port: UInt16(port))))
            let dropped: Bool
            switch result {
            case .dropped: dropped = true
            case .enqueued, .terminated: dropped = false
            @unknown default: dropped = false
            }
            counters.record(dropped: dropped)
        }

        // No channelInactive: the stream outlives one socket and ends in UDPTransport.close().

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // ICMP port unreachable and the like surface here; UDP is best effort, keep reading.
        }
    }
}

/// Where the datagrams that reached a ``UDPTransport``'s socket went (``UDPTransport/statistics()``).
public struct TransportStatistics: Sendable, Equatable {
    /// Datagrams read from the socket (handed to the consumer or dropped from the queue).
    public var datagramsRead: Int
    /// Datagrams dropped from the queue between the socket and the consumer, because it was full.
    public var queueDrops: Int
    /// Datagrams the kernel dropped for the socket (its receive buffer was full), summed over
    /// every socket the transport bound.
    public var kernelDrops: Int
    /// The receive buffer the kernel granted, as it reports it (Linux: twice the size set).
    public var receiveBufferBytes: Int
    /// The receive buffer asked for.
    public var requestedReceiveBufferBytes: Int
    /// Datagrams read but dropped before the queue by the per-sender rate limit
    /// (``SenderRateGate``); 0 when the transport has none.
    public var senderRateDrops: Int = 0

    /// Whether the kernel granted less than was asked (on Linux, capped by `net.core.rmem_max`).
    public var receiveBufferCapped: Bool { receiveBufferBytes < requestedReceiveBufferBytes * Self.kernelReportFactor }

    /// How much larger than the size set the kernel reports a receive buffer: Linux doubles it.
    #if os(Linux)
    static let kernelReportFactor = 2
    #else
    static let kernelReportFactor = 1
    #endif
}

/// The socket's memory figures (`SO_MEMINFO`, Linux's `SK_MEMINFO_*` order); only the drops are used.
private struct SocketMemoryInfo {
    var receiveAllocated: UInt32 = 0
    var receiveBuffer: UInt32 = 0
    var sendAllocated: UInt32 = 0
    var sendBuffer: UInt32 = 0
    var forwardAllocated: UInt32 = 0
    var sendQueued: UInt32 = 0
    var optionMemory: UInt32 = 0
    var backlog: UInt32 = 0
    var drops: UInt32 = 0
}

/// Counts of datagrams read from the socket, dropped by the per-sender gate and dropped from
/// the queue, and the gate itself, shared by every socket a transport binds.
private final class ReceiveCounters: Sendable {
    private struct State {
        var read = 0
        var dropped = 0
        var gated = 0
        var gate: SenderRateGate?
        var admitted: Set<Data>?
    }

    private let box: NIOLockedValueBox<State>

    init(gate: SenderRateGate?) { box = NIOLockedValueBox(State(gate: gate)) }

    /// Whether the datagram passes the per-sender gate (always, without one); a refused one
    /// is counted as read and gated.
    func admit(_ data: ByteBuffer, host: String, port: Int) -> Bool {
        let now = NIODeadline.now().uptimeNanoseconds
        return box.withLockedValue { state in
            guard state.gate != nil else { return true }
            let key = data.withUnsafeReadableBytes { SenderRateGate.key(of: $0, host: host, port: port, admitted: state.admitted) }
            guard state.gate!.admit(key, nowNanoseconds: now) else {
                state.read += 1
                state.gated += 1
                return false
            }
            return true
        }
    }

    func setAdmitted(_ keys: Set<Data>) { box.withLockedValue { $0.admitted = keys } }

    func record(dropped: Bool) {
        box.withLockedValue {
            $0.read += 1
            if dropped { $0.dropped += 1 }
        }
    }

    var values: (read: Int, dropped: Int, gated: Int) { box.withLockedValue { ($0.read, $0.dropped, $0.gated) } }
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
