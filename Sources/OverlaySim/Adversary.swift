import Foundation
import OverlayCore
import OverlayWire

/// The chaos runs' attacker: replays, redirects and tampers with captured datagrams, and signs
/// datagrams of its own, as an outsider (a key not in the keyring) and as an insider (an
/// admitted key that runs no agent) carrying forged items.
///
/// Every attack is delivered with ``SimulatedCloud/inject(_:to:from:as:)`` together with the
/// outcome the target must produce, which ``NoForgedOrReplayedDatagramAccepted`` checks.
struct Adversary {
    private var rng: DeterministicRandom
    private var insider: DatagramCodec
    private var outsider: DatagramCodec
    private let insiderSigner: SimSigner
    private let outsiderSigner: SimSigner
    private var forgeries: UInt64 = 0
    /// Attacks made, by kind.
    private(set) var made: [Injection.Attack: Int] = [:]

    init(cloud: SimulatedCloud, seed: UInt64) {
        rng = DeterministicRandom.stream(seed, 0xBAD)
        let insiderIndex = cloud.configuration.nodeCount
        insiderSigner = cloud.identities.signer(insiderIndex)
        // An identity drawn from another seed: not in the keyring.
        let stranger = SimIdentities(count: 1, seed: seed ^ 0xFFFF_0000_FFFF)
        outsiderSigner = stranger.signer(0)
        let session = UInt64(NodeClock.epochMilliseconds)
        insider = DatagramCodec(
            session: session, signer: insiderSigner, verifier: cloud.identities.verifier, keyring: cloud.keyring,
            clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1_000, burst: 1_000))
        outsider = DatagramCodec(
            session: session, signer: outsiderSigner, verifier: cloud.identities.verifier, keyring: cloud.keyring,
            clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1_000, burst: 1_000))
    }

    /// Makes one attack of kind `attack` against a random running node, if there is material
    /// for it (a replay needs a captured datagram).
    ///
    /// - Returns: whether an attack was injected.
    @discardableResult
    mutating func attack(_ attack: Injection.Attack, in cloud: SimulatedCloud) -> Bool {
        let up = cloud.upNodes.filter { cloud.nodes[$0].agent != nil }
        guard !up.isEmpty else { return false }
        switch attack {
        case .replay:
            // Only to a recipient that has not restarted since: a restarted node has an empty
            // replay window, and the clock-skew window is what bounds replays to it (a documented
            // limit of the core, not something this invariant claims).
            let candidates = cloud.capturedAccepted.filter { cloud.nodes[$0.to].isUp && cloud.nodes[$0.to].starts == $0.recipientStarts }
            guard let captured = pick(candidates) else { return false }
            cloud.inject(captured.bytes, to: captured.to, from: captured.from, as: Injection(attack: .replay, expectation: .refuseDatagram))
        case .redirect, .redirectJoin:
            let wantJoin = attack == .redirectJoin
            guard let captured = pick(cloud.capturedAccepted.filter { Self.isJoin($0.bytes) == wantJoin }) else { return false }
            let others = up.filter { $0 != captured.to && $0 != captured.from }
            guard let target = pick(others) else { return false }
            cloud.inject(captured.bytes, to: target, from: captured.from, as: Injection(attack: attack, expectation: .refuseDatagram))
        case .tamper:
            let pool = cloud.capturedLost.isEmpty ? cloud.capturedAccepted : cloud.capturedLost
            guard let captured = pick(pool.filter { cloud.nodes[$0.to].isUp }), !captured.bytes.isEmpty else { return false }
            var bytes = captured.bytes
            let position = rng.below(bytes.count)
            bytes[bytes.startIndex + position] ^= UInt8(1 + rng.below(255))
            cloud.inject(bytes, to: captured.to, from: captured.from, as: Injection(attack: .tamper, expectation: .refuseDatagram))
        case .outsider:
            let target = up[rng.below(up.count)]
            var packet = Overlayd_V1_Packet()
            packet.message = .gossip(Overlayd_V1_Gossip())
            packet.items = [forgedFailure(about: cloud.id(target), claimedOrigin: outsiderSigner.nodeID, signer: outsiderSigner, cloud: cloud).wire]
            let bytes = outsider.seal(packet, to: cloud.id(target), now: perfectClock(cloud))
            cloud.inject(bytes, to: target, from: target == 0 ? 1 % cloud.nodes.count : 0, as: Injection(attack: .outsider, expectation: .refuseDatagram))
        case .forgedItems:
            let target = up[rng.below(up.count)]
            var items: [SignedItem] = []
            // A FAILED claim about a member, with that member's name as origin but the
            // insider's signature: the origin signature does not verify.
            let victim = up[rng.below(up.count)]
            items.append(forgedFailure(about: cloud.id(target), claimedOrigin: cloud.id(victim), signer: insiderSigner, cloud: cloud))
            // An ALIVE claim about someone else, validly signed by the insider: only the
            // subject may say it is alive.
            items.append(aliveOnBehalf(of: cloud.id(victim), signer: insiderSigner, cloud: cloud))
            // A claim whose origin is not in the keyring.
            items.append(forgedFailure(about: cloud.id(victim), claimedOrigin: outsiderSigner.nodeID, signer: outsiderSigner, cloud: cloud))
            var packet = Overlayd_V1_Packet()
            packet.message = .gossip(Overlayd_V1_Gossip())
            packet.items = items.map(\.wire)
            let bytes = insider.seal(packet, to: cloud.id(target), now: perfectClock(cloud))
            cloud.inject(
                bytes, to: target, from: target == 0 ? 1 % cloud.nodes.count : 0,
                as: Injection(attack: .forgedItems, expectation: .refuseItems(items.count)))
        }
        made[attack, default: 0] += 1
        return true
    }

    private func perfectClock(_ cloud: SimulatedCloud) -> Instant { NodeClock().instant(at: cloud.now) }

    private mutating func pick<T>(_ values: [T]) -> T? {
        values.isEmpty ? nil : values[rng.below(values.count)]
    }

    /// Whether a datagram names no recipient: a join, sent to a seed whose key the joiner does
    /// not know yet (the only kind the core accepts without one).
    static func isJoin(_ bytes: Data) -> Bool {
        guard let datagram = try? Overlayd_V1_Datagram(serializedBytes: bytes),
              let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return false }
        return packet.recipient.isEmpty
    }

    /// A FAILED claim about `subject` at a high incarnation, made to look as if `claimedOrigin`
    /// signed it while `signer` did.
    private mutating func forgedFailure(about subject: NodeID, claimedOrigin: NodeID, signer: SimSigner, cloud: SimulatedCloud) -> SignedItem {
        forgeries += 1
        var claim = Overlayd_V1_MemberClaim()
        claim.subject = subject.data
        claim.incarnation = 1_000_000 + forgeries
        claim.state = .failed
        let forger = ForgingSigner(nodeID: claimedOrigin, inner: signer)
        return SignedItem(kind: .member(claim), signer: forger, now: perfectClock(cloud))
    }

    /// An ALIVE claim about `subject` signed (validly) by `signer`, who is not the subject.
    private mutating func aliveOnBehalf(of subject: NodeID, signer: SimSigner, cloud: SimulatedCloud) -> SignedItem {
        forgeries += 1
        var claim = Overlayd_V1_MemberClaim()
        claim.subject = subject.data
        claim.incarnation = 1_000_000 + forgeries
        claim.state = .alive
        var endpoint = Overlayd_V1_Endpoint()
        endpoint.host = "192.0.2.66"
        endpoint.port = 7946
        claim.endpoint = endpoint
        claim.name = "impostor"
        return SignedItem(kind: .member(claim), signer: signer, now: perfectClock(cloud))
    }
}

/// Signs with one key while claiming another node's ID: what a forger can do without the
/// claimed node's secret.
struct ForgingSigner: MessageSigner {
    let nodeID: NodeID
    let inner: SimSigner
    func sign(_ message: Data) -> Data { inner.sign(message) }
}
