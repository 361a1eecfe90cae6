import Foundation
import OverlayWire
import SwiftProtobuf
@testable import OverlayCore

/// One agent (node 0) fed hand-made datagrams from other nodes' codecs.
///
/// Nodes `0..<admitted` are in the keyring; node 200 never is. Every other node seals with its
/// own ``DatagramCodec``, exactly as its agent would, so a test can build valid datagrams and
/// then break one thing at a time.
struct AgentFixture {
    static let t0 = MeshHarness.epoch
    static let outsider = 200

    let keyring: Keyring
    var agent: Agent
    private var codecs: [Int: DatagramCodec] = [:]

    init(admitted: Int = 5, configure: (inout AgentSettings) -> Void = { _ in }) {
        keyring = TestKeys.keyring(count: admitted)
        var settings = AgentSettings(name: "node0", endpoint: TestKeys.endpoint(0))
        configure(&settings)
        agent = Agent(
            settings: settings, signer: TestKeys.signer(0), verifier: FakeVerifier(), keyring: keyring,
            session: 1, incarnation: 1, joinTargets: [], seed: 3, now: Self.t0)
    }

    /// Seals a packet as node `sender` would (its own session and sequence, its clock at `at`).
    mutating func datagram(
        from sender: Int, to recipient: NodeID? = TestKeys.id(0), message: Overlayd_V1_Packet.OneOf_Message? = .gossip(.init()),
        items: [SignedItem] = [], at time: Instant = AgentFixture.t0
    ) -> Data {
        var codec = codecs[sender] ?? DatagramCodec(
            session: 1_000 + UInt64(sender), signer: TestKeys.signer(sender), verifier: FakeVerifier(), keyring: keyring,
            clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1_000, burst: 1_000))
        var packet = Overlayd_V1_Packet()
        packet.message = message
        packet.items = items.map(\.wire)
        let bytes = codec.seal(packet, to: recipient, now: time)
        codecs[sender] = codec
        return bytes
    }

    /// Node `index`'s own ALIVE claim at incarnation 1.
    static func alive(_ index: Int, incarnation: UInt64 = 1, name: String? = nil, at time: Instant = t0) -> SignedItem {
        Claims.alive(TestKeys.signer(index), incarnation: incarnation, name: name ?? "node\(index)", endpoint: TestKeys.endpoint(index), at: time)
    }

    /// Delivers bytes to the agent.
    @discardableResult
    mutating func deliver(_ bytes: Data, at time: Instant = AgentFixture.t0, from source: Int = 1) -> [AgentDirective] {
        agent.onDatagram(bytes, from: TestKeys.endpoint(source), now: time)
    }

    /// Makes the agent know nodes 1 and 2 (alive, incarnation 1) through one gossip from node 1.
    mutating func learnOneAndTwo() {
        let bytes = datagram(from: 1, items: [Self.alive(1), Self.alive(2)])
        deliver(bytes)
    }

    /// What membership looks like, without `lastHeard` (an accepted datagram updates it).
    var view: [String] {
        agent.membership.sortedMembers.map { "\($0.id.shortForm) \($0.state) \($0.incarnation) \($0.name) \($0.endpoint)" }
            + ["self \(agent.membership.incarnation) health \(agent.membership.localHealthScore)"]
    }
}

extension Data {
    /// Decodes the datagram envelope, lets `change` edit it, and encodes it again.
    func editingDatagram(_ change: (inout Overlayd_V1_Datagram) -> Void) -> Data {
        var datagram = try! Overlayd_V1_Datagram(serializedBytes: self)
        change(&datagram)
        return try! datagram.serializedBytes()
    }
}

extension AgentDirective {
    var transmitted: (bytes: Data, to: PeerEndpoint)? {
        if case .transmit(let bytes, let to) = self { return (bytes, to) }
        return nil
    }
}

extension AgentDirective {
    var rejection: RejectReason? {
        if case .rejected(let reason) = self { return reason }
        return nil
    }
}
