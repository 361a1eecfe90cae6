import Foundation
import OverlayAPI
import OverlayClient
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

extension BadInputTests {
    /// A member whose datagrams keep failing verification is named in `GET /v1/status` and
    /// counted in `overlayd_suspicious_members`, on a live daemon.
    @Test func aMemberWhoseDatagramsKeepFailingVerificationIsReported() throws {
        let tester = NodeIdentity.generate()
        let cloud = try LocalCloud(count: 1, basePort: 17420, extraKeys: [tester.publicKey.hex])
        defer { cloud.shutdown() }
        try cloud.startAll()
        try #require(cloud.waitUntil(timeout: .seconds(20)) { cloud.peers(0) != nil } != nil, "the node did not start:\n\(cloud.logs())")
        let target = try #require(NodeID(hex: cloud.ids[0]))
        var keyring = Keyring()
        keyring.insert(.init(id: target))
        var codec = DatagramCodec(
            session: UInt64(WallClock.now().milliseconds), signer: SodiumSigner(identity: tester), verifier: SodiumVerifier(),
            keyring: keyring, clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 100, burst: 100))
        let socket = try UDPSocket()
        func status() -> StatusResponse? {
            guard let (code, body) = try? LocalAPIClient(socketPath: cloud.nodes[0].socket).get("/v1/status"), code == 200 else { return nil }
            return try? JSONDecoder().decode(StatusResponse.self, from: body)
        }
        func sendTampered() throws {
            var packet = Overlayd_V1_Packet()
            packet.ping = .with { $0.probe = 1 }
            var bytes = codec.seal(packet, to: target, now: WallClock.now())
            bytes[bytes.count - 1] ^= 0x01  // the signature's last byte
            try socket.send(bytes, to: "127.0.0.1", port: cloud.nodes[0].port)
        }
        for _ in 0..<2 { try sendTampered() }
        _ = cloud.waitUntil(timeout: .seconds(5)) { cloud.metric(0, "overlayd_rejected_total{reason=\"bad_signature\"}") == 2 }
        #expect(status()?.suspicious.isEmpty == true, "two failures are not yet a pattern")
        try sendTampered()
        let reported = cloud.waitUntil(timeout: .seconds(5)) { status()?.suspicious.isEmpty == false }
        try #require(reported != nil, "status: \(String(describing: status()))")
        let entry = try #require(status()?.suspicious.first)
        #expect(entry.id == tester.publicKey.hex)
        #expect(entry.name == "tester", "the keyring's label")
        #expect(entry.badDatagrams == 3)
        #expect(entry.forgedItems == 0)
        #expect(cloud.metric(0, "overlayd_suspicious_members") == 1)
        #expect(cloud.peers(0)?.count == 1, "reported, not admitted")
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
