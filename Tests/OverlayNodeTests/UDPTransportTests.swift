import Foundation
import NIOPosix
import OverlayCore
import Testing

@testable import OverlayNode

/// The UDP socket survives SwiftNIO closing it under the daemon (as it does after a send fails
/// with "network is unreachable"): the same address is bound again and the same stream keeps
/// delivering.
@Suite struct UDPTransportTests {
    @Test func aSocketClosedUnderTheTransportIsBoundAgain() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let receiver = try await UDPTransport.bind(PeerEndpoint(host: "127.0.0.1", port: 0), group: group)
        let sender = try await UDPTransport.bind(PeerEndpoint(host: "127.0.0.1", port: 0), group: group)
        var received = receiver.datagrams.makeAsyncIterator()

        #expect(sender.send(Data("before".utf8), to: receiver.localAddress) == nil)
        #expect(await received.next().map { String(decoding: $0.bytes, as: UTF8.self) } == "before")

        await receiver.dropSocketForTesting()
        // Reopening takes a moment; send until a datagram arrives (bounded: 100 tries, 20 s).
        let delivered = Task {
            for _ in 0..<100 {
                _ = sender.send(Data("after".utf8), to: receiver.localAddress)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let next = await received.next()
        delivered.cancel()
        #expect(next.map { String(decoding: $0.bytes, as: UTF8.self) } == "after")
        #expect(receiver.reopenCount == 1)

        await receiver.close()
        await sender.close()
        var left = 0
        while await received.next() != nil { left += 1 }  // close() ends the stream
        #expect(left < 100)
        try await group.shutdownGracefully()
    }
}
