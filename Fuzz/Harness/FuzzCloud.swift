import Foundation
import OverlayWire
@testable import OverlayCore

/// The node every agent-level target feeds: node 0 of a five-node keyring, knowing nodes 1-4
/// as alive members, with gateway selection and the quorum view on, and no clock-skew check
/// (the fuzzer writes any time). Built once; each input gets its own copy (the agent is a
/// value), so no input sees another's state.
enum FuzzCloud {
    /// The fixture's clock: 2026-06-01, in Unix ms.
    static let t0 = Instant(milliseconds: 1_780_272_000_000)
    /// Nodes 0-4.
    static let keyring = Keyring((0..<5).map { Keyring.Entry(id: FuzzKeys.id($0), label: "node\($0)") })

    nonisolated(unsafe) static let agent: Agent = {
        var settings = AgentSettings(name: "node0", endpoint: FuzzKeys.endpoint(0))
        settings.clockSkewWindow = nil
        settings.senderRatePerSecond = 1_000_000
        settings.senderBurst = 1_000_000
        var agent = Agent(
            settings: settings, signer: FuzzKeys.signer(0), verifier: FuzzVerifier(), keyring: keyring,
            session: 1, incarnation: 1, joinTargets: [], seed: 7, now: t0, gateways: .standard)
        _ = agent.start(now: t0)
        var packet = Overlayd_V1_Packet()
        packet.gossip = .init()
        packet.items = (1...4).map { alive($0).wire }
        _ = agent.onDatagram(datagram(rawPacket: sealedPacket(packet, from: 1, sequence: 1), from: 1), from: FuzzKeys.endpoint(1), now: t0)
        precondition(agent.membership.sortedMembers.count >= 4, "the fuzz cloud did not learn its members")
        return agent
    }()

    /// Node `index`'s ALIVE claim.
    static func alive(_ index: Int) -> SignedItem {
        SignedItem(
            kind: Membership.aliveKind(name: "node\(index)", endpoint: FuzzKeys.endpoint(index), incarnation: 1),
            signer: FuzzKeys.signer(index), now: t0)
    }

    /// `packet` as node `sender` would send it to node 0 (recipient, session, sequence and time set).
    static func sealedPacket(_ packet: Overlayd_V1_Packet, from sender: Int, sequence: UInt64) -> Data {
        var packet = packet
        packet.recipient = FuzzKeys.id(0).data
        packet.session = 1_000 + UInt64(sender)
        packet.sequence = sequence
        packet.sentAtMs = UInt64(t0.milliseconds)
        return (try? packet.serializedBytes()) ?? Data()
    }

    /// A datagram from node `sender` carrying exactly `rawPacket`, signed with ``FuzzSignature``.
    static func datagram(rawPacket: Data, from sender: Int) -> Data {
        var datagram = Overlayd_V1_Datagram()
        datagram.version = WireFormat.version
        datagram.sender = FuzzKeys.id(sender).data
        datagram.packet = rawPacket
        datagram.signature = FuzzKeys.signer(sender).sign(SigningDomain.packet.message(for: rawPacket))
        return (try? datagram.serializedBytes()) ?? Data()
    }

    /// Delivers a datagram to a fresh copy of the fixture's agent, then lets a few protocol
    /// periods pass, so what the datagram changed is also acted on (timers, gossip, rounds).
    static func deliver(_ datagram: Data, from sender: Int = 1) {
        var copy = agent
        _ = copy.onDatagram(datagram, from: FuzzKeys.endpoint(sender), now: t0 + .seconds(1))
        for second in 2...4 {
            _ = copy.onTick(now: t0 + .seconds(second))
        }
    }

    /// Delivers one item signed by node `origin` inside a gossip packet from node 1.
    static func deliverItem(_ kind: Overlayd_V1_Item.OneOf_Kind, origin: Int) {
        let item = SignedItem(kind: kind, signer: FuzzKeys.signer(origin), now: t0 + .milliseconds(500))
        var packet = Overlayd_V1_Packet()
        packet.gossip = .init()
        packet.items = [item.wire]
        deliver(datagram(rawPacket: sealedPacket(packet, from: 1, sequence: 2), from: 1))
    }
}
