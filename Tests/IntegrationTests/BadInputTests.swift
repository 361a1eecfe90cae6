import Foundation
import OverlayCore
import OverlayCrypto
import OverlayNode
import OverlayWire
import Testing

/// Hostile datagrams against a running cloud: each is refused, counted in `/metrics` under its
/// reason, and leaves the membership as it was.
@Suite(.serialized) struct BadInputTests {
    @Test func forgedTamperedReplayedAndTruncatedDatagramsAreRejectedAndCounted() throws {
        let tester = NodeIdentity.generate()
        let stranger = NodeIdentity.generate()
        let cloud = try LocalCloud(count: 3, basePort: 17400, extraKeys: [tester.publicKey.hex])
        defer { cloud.shutdown() }
        try cloud.startAll()
        let converged = cloud.waitUntil(timeout: .seconds(20)) {
            (0..<3).allSatisfy { cloud.peers($0)?.filter { $0.state == "alive" }.count == 3 }
        }
        try #require(converged != nil, "the cloud did not converge:\n\(cloud.logs())")

        let target = try #require(NodeID(hex: cloud.ids[0]))
        let endpoint = "127.0.0.1"
        let port = cloud.nodes[0].port
        let socket = try UDPSocket()

        // Each datagram gets its own session, so only the deliberate copy counts as a replay.
        var session = UInt64(WallClock.now().milliseconds)
        func datagram(from identity: NodeIdentity) -> Data {
            session += 1
            let signer = SodiumSigner(identity: identity)
            var keyring = Keyring()
            keyring.insert(.init(id: target))
            var codec = DatagramCodec(
                session: session, signer: signer, verifier: SodiumVerifier(), keyring: keyring,
                clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 100, burst: 100))
            var packet = Overlayd_V1_Packet()
            packet.ping = .with { $0.probe = 1 }
            return codec.seal(packet, to: target, now: WallClock.now())
        }

        let valid = datagram(from: tester)
        try socket.send(valid, to: endpoint, port: port)
        try socket.send(valid, to: endpoint, port: port)  // replayed
        var tampered = datagram(from: tester)
        tampered[tampered.count - 1] ^= 0x01
        try socket.send(tampered, to: endpoint, port: port)
        let truncated = datagram(from: tester)
        try socket.send(truncated.prefix(truncated.count / 2), to: endpoint, port: port)
        try socket.send(datagram(from: stranger), to: endpoint, port: port)
        try socket.send(Data(repeating: 0x42, count: 1500), to: endpoint, port: port)

        let expected = ["replayed", "bad_signature", "malformed", "unknown_sender", "oversized"]
        let counted = cloud.waitUntil(timeout: .seconds(5)) {
            expected.allSatisfy { (cloud.metric(0, "overlayd_rejected_total{reason=\"\($0)\"}") ?? 0) >= 1 }
        }
        #expect(counted != nil, "metrics:\n\(cloud.metrics(0) ?? "none")")
        for reason in expected {
            #expect(cloud.metric(0, "overlayd_rejected_total{reason=\"\(reason)\"}") == 1, "reason \(reason)")
        }
        // Nothing was lost on the way in, and the receive buffer granted is on show.
        #expect(cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"socket_buffer\"}") == 0)
        #expect(cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"receive_queue\"}") == 0)
        #expect((cloud.metric(0, "overlayd_udp_receive_buffer_bytes") ?? 0) > 0)
        let peers = try #require(cloud.peers(0))
        #expect(peers.count == 3)
        #expect(peers.allSatisfy { $0.state == "alive" })
        #expect(!peers.contains { $0.id == tester.publicKey.hex || $0.id == stranger.publicKey.hex })
    }
}

/// A bare UDP socket for sending test datagrams.
final class UDPSocket {
    let fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CloudError("socket() failed") }
    }

    deinit { close(fd) }

    func send(_ data: Data, to host: String, port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let sent = data.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == data.count else { throw CloudError("sendto failed") }
    }
}
