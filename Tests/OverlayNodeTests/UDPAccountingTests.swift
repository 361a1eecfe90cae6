import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import OverlayCore
import Testing

@testable import OverlayNode

/// Every datagram that reaches the socket is accounted for: handed to the consumer, dropped by
/// the kernel (receive buffer full) or dropped from the queue between socket and consumer.
@Suite(.serialized) struct UDPAccountingTests {
    @Test func theReceiveBufferAskedForIsGrantedUpToTheKernelsCap() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let receiver = try await UDPTransport.bind(PeerEndpoint(host: "127.0.0.1", port: 0), group: group)
        let statistics = await receiver.statistics()
        #expect(statistics.requestedReceiveBufferBytes == UDPTransport.defaultReceiveBufferBytes)
        #if os(Linux)
        // Root may exceed net.core.rmem_max (SO_RCVBUFFORCE); others get at most the cap.
        let cap = geteuid() == 0 ? Int.max : (Self.sysctl("/proc/sys/net/core/rmem_max") ?? Int.max)
        #expect(statistics.receiveBufferBytes == 2 * min(UDPTransport.defaultReceiveBufferBytes, cap))
        #endif
        await receiver.close()
        try await group.shutdownGracefully()
    }

    @Test func datagramsDroppedByTheKernelAreCountedAndMatchProcNetUDP() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The smallest buffer the kernel allows holds a handful of datagrams.
        let receiver = try await UDPTransport.bind(PeerEndpoint(host: "127.0.0.1", port: 0), group: group, receiveBuffer: 1)
        try await receiver.setReadingForTesting(false)
        let sent = 300
        let socket = try BlockingUDPSocket()
        for index in 0..<sent { try socket.send(Data(repeating: UInt8(index % 251), count: 100), to: receiver.localAddress.port) }

        let delivered = NIOLockedValueBox(0)
        let consumer = Task { for await _ in receiver.datagrams { delivered.withLockedValue { $0 += 1 } } }
        try await receiver.setReadingForTesting(true)
        // Bounded: the few datagrams the buffer held arrive within milliseconds; 20 s on a loaded machine.
        var statistics = await receiver.statistics()
        let deadline = ContinuousClock.now + .seconds(20)
        while delivered.withLockedValue({ $0 }) + statistics.queueDrops + statistics.kernelDrops < sent, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            statistics = await receiver.statistics()
        }
        let got = delivered.withLockedValue { $0 }
        #expect(got + statistics.queueDrops + statistics.kernelDrops == sent, "delivered \(got), \(statistics)")
        #expect(statistics.kernelDrops > 0)
        #expect(statistics.queueDrops == 0)
        #expect(statistics.datagramsRead == got)
        #if os(Linux)
        #expect(Self.procNetUDPDrops(port: receiver.localAddress.port) == statistics.kernelDrops)
        #endif
        await receiver.close()
        _ = await consumer.value
        try await group.shutdownGracefully()
    }

    @Test func datagramsDroppedFromTheQueueAreCountedAndTheNewestKept() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let limit = 16
        let receiver = try await UDPTransport.bind(PeerEndpoint(host: "127.0.0.1", port: 0), group: group, queueLimit: limit)
        let sent = 200  // about 260 KB of kernel memory: far inside the 2 MiB buffer, so no kernel drop
        let socket = try BlockingUDPSocket()
        for index in 0..<sent { try socket.send(Data("\(index)".utf8), to: receiver.localAddress.port) }

        var statistics = await receiver.statistics()
        let deadline = ContinuousClock.now + .seconds(20)
        while statistics.datagramsRead + statistics.kernelDrops < sent, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            statistics = await receiver.statistics()
        }
        #expect(statistics.kernelDrops == 0)
        #expect(statistics.datagramsRead == sent)
        #expect(statistics.queueDrops == sent - limit)
        var iterator = receiver.datagrams.makeAsyncIterator()
        var kept: [String] = []
        for _ in 0..<limit {
            if let datagram = await iterator.next() { kept.append(String(decoding: datagram.bytes, as: UTF8.self)) }
        }
        #expect(kept == ((sent - limit)..<sent).map(String.init))
        await receiver.close()
        try await group.shutdownGracefully()
    }

    /// A number from a `/proc/sys` file.
    static func sysctl(_ path: String) -> Int? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The `drops` column of the `/proc/net/udp` line of the socket bound to 127.0.0.1:`port`.
    static func procNetUDPDrops(port: UInt16) -> Int? {
        // Read to the end: /proc reports a size of 0, and a reader that trusts the size or reads
        // one page misses sockets past the first few dozen on a busy machine.
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/udp") else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd(), let table = String(data: data, encoding: .utf8) else { return nil }
        let local = String(format: "0100007F:%04X", port)
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[1] == local, let drops = fields.last.flatMap({ Int($0) }) { return drops }
        }
        return nil
    }
}

/// A plain blocking UDP socket that sends to 127.0.0.1, so every datagram leaves before the
/// next is sent.
final class BlockingUDPSocket {
    let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw StateError("socket() failed") }
    }

    deinit { close(fd) }

    func send(_ data: Data, to port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let sent = data.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == data.count else { throw StateError("sendto failed: \(String(cString: strerror(errno)))") }
    }
}
