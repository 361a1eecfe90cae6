import Foundation
import OverlayCrypto
import OverlayNode
import OverlayWire
@testable import OverlayCore

/// `datagram`: raw UDP payloads into ``DatagramCodec/open(_:now:)`` exactly as the daemon runs
/// it: real Ed25519 (libsodium), the keyring, the rate limiter, replay and clock-skew checks.
/// The fuzzer cannot forge a signature, so this target covers the envelope and everything
/// checked before the signature; `packet` and the `item-*` targets go behind it.
enum DatagramTarget {
    static let receiver = try! NodeIdentity(seed: [UInt8](repeating: 0x11, count: 32))
    static let sender = try! NodeIdentity(seed: [UInt8](repeating: 0x22, count: 32))
    static let senderID = NodeID(bytes: sender.publicKey.bytes)!
    static let receiverID = NodeID(bytes: receiver.publicKey.bytes)!

    nonisolated(unsafe) static let codec = DatagramCodec(
        session: 1, signer: SodiumSigner(identity: receiver), verifier: SodiumVerifier(),
        keyring: Keyring([Keyring.Entry(id: senderID, label: "sender")]),
        clockSkewWindow: .seconds(600), rateLimit: RateLimiter(ratePerSecond: 1_000_000, burst: 1_000_000))

    static let target = FuzzTarget(
        name: "datagram", summary: "UDP payloads into DatagramCodec.open (real Ed25519, keyring, replay, skew)",
        seeds: seeds, run: { bytes in
            var copy = codec
            _ = copy.open(bytes, now: FuzzCloud.t0)
        })

    /// Datagrams the sender's own codec seals: each message kind, with and without items.
    static func seeds() -> [Data] {
        var sealer = DatagramCodec(
            session: 2, signer: SodiumSigner(identity: sender), verifier: SodiumVerifier(), keyring: Keyring(),
            clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1, burst: 1))
        var out: [Data] = []
        for packet in PacketTarget.samplePackets() {
            out.append(sealer.seal(packet, to: receiverID, now: FuzzCloud.t0))
        }
        var join = Overlayd_V1_Packet()
        join.sync = .with { $0.replyWanted = true }
        out.append(sealer.seal(join, to: nil, now: FuzzCloud.t0))
        return out
    }
}

/// `packet`: the fuzzer's bytes as the signed packet of a datagram from an admitted member,
/// into ``Agent/onDatagram(_:from:now:)``: every message kind (ping, ack, ping request, nack,
/// sync with its view fields, gossip) and the list of relayed items, then a few timer ticks.
enum PacketTarget {
    static let target = FuzzTarget(
        name: "packet", summary: "signed packets from a member into Agent.onDatagram (every message kind, item lists)",
        seeds: { samplePackets().map { FuzzCloud.sealedPacket($0, from: 1, sequence: 2) } },
        run: { bytes in FuzzCloud.deliver(FuzzCloud.datagram(rawPacket: bytes, from: 1)) })

    /// One packet of each message kind, and gossip with one item of each kind.
    static func samplePackets() -> [Overlayd_V1_Packet] {
        var packets: [Overlayd_V1_Packet] = []
        func add(_ message: Overlayd_V1_Packet.OneOf_Message, items: [SignedItem] = []) {
            var packet = Overlayd_V1_Packet()
            packet.message = message
            packet.items = items.map(\.wire)
            packets.append(packet)
        }
        add(.ping(.with { $0.probe = 7 }))
        add(.ack(.with { $0.probe = 7 }))
        add(.pingRequest(.with { $0.probe = 8; $0.target = FuzzKeys.id(2).data }))
        add(.nack(.with { $0.probe = 8 }))
        let view = FuzzCloud.agent.quorumView?.view
        add(.sync(.with {
            $0.replyWanted = true
            $0.viewEpoch = view?.epoch ?? 1
            $0.viewLineage = view?.lineage ?? Data(repeating: 1, count: 8)
            $0.viewSize = UInt32(view?.members.count ?? 1)
            $0.viewMembers = (view?.members ?? [FuzzKeys.id(0)]).map(\.data)
        }))
        let items = ItemTargets.sampleKinds().map { SignedItem(kind: $0.kind, signer: FuzzKeys.signer($0.origin), now: FuzzCloud.t0) }
        add(.gossip(.init()), items: [FuzzCloud.alive(3)] + items)
        var withView = packets[0]
        withView.viewEpoch = view?.epoch ?? 1
        withView.viewLineage = view?.lineage ?? Data()
        packets.append(withView)
        return packets
    }
}
