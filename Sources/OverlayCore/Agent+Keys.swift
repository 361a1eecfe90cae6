import Foundation
import OverlayWire

/// Key rotation and revocation (``KeyTrust``, ``KeyStatement``): the agent records the
/// statements it receives, relays and persists the new ones, syncs all of them first in every
/// push-pull, and makes its own.
///
/// A roll is two steps for the host: ``announceKeyRoll(to:overlap:now:)`` signs the roll under
/// the current key and gossips it; after a short handover (the statement spreads in a few
/// gossip rounds) the host makes the current agent ``leave(now:)`` and starts
/// ``continuation(as:seed:now:)``, the same node under its new key, which joins the members
/// the old one knew. Members that missed the announcement admit the new key from the roll the
/// continuation's syncs carry, and the old key keeps working for anyone still using it until
/// the overlap ends.
extension Agent {
    /// The admitted keys: the keyring file and the recorded key statements.
    public var keyTrust: KeyTrust { codec.trust }

    /// Why a key statement of this node's own was not made.
    public struct KeyStatementRefused: Error, Sendable, Equatable, CustomStringConvertible {
        /// One sentence for the operator.
        public let description: String
    }

    /// Records a received key statement whose signature verified.
    mutating func receiveKeyStatement(_ item: SignedItem, now: Instant) -> [AgentDirective] {
        switch codec.trust.record(item) {
        case .known:
            counters.itemsDuplicate += 1
            return []
        case .refused:
            counters.rejected[.invalidItem, default: 0] += 1
            return [.rejected(.invalidItem)]
        case .recorded:
            return keyStatementRecorded(item, now: now)
        }
    }

    /// Relays a newly recorded statement, removes members it revoked, and persists at once
    /// (a restart must not forget a successor or a revocation).
    private mutating func keyStatementRecorded(_ item: SignedItem, now: Instant) -> [AgentDirective] {
        markProcessed(item)
        relay(item)
        var out: [AgentDirective] = []
        for member in membership.sortedMembers where member.state.isLive && codec.trust.isRevoked(member.id) {
            // A revoked member is declared failed at once, by this node, rather than waiting for
            // its probes to time out (its datagrams are refused from now on).
            let claim = SignedItem(
                kind: Membership.claimKind(subject: member.id, incarnation: member.incarnation, state: .failed),
                signer: codec.signer, now: now)
            markProcessed(claim)
            out += perform(membership.onClaim(claim, now: now) ?? [], now: now)
        }
        out.append(persistSnapshot(now: now))
        return out
    }

    /// Signs and gossips the roll of this node's key to `successor`.
    ///
    /// - Parameters:
    ///   - successor: the new public key (its private half stays with the host).
    ///   - overlap: how long the current key stays admitted after now.
    ///   - now: the current time; the successor is admitted from it.
    /// - Returns: the roll and the directives (the snapshot, with the statement, to persist).
    /// - Throws: ``KeyStatementRefused`` if this key already rolled or the successor is a known key.
    public mutating func announceKeyRoll(to successor: NodeID, overlap: Duration, now: Instant) throws(KeyStatementRefused) -> (KeyRoll, [AgentDirective]) {
        let roll = KeyRoll(predecessor: localID, successor: successor, validFrom: now, overlapUntil: now + overlap)
        let item = roll.signed(by: codec.signer, now: now)
        switch codec.trust.record(item) {
        case .recorded:
            return (roll, keyStatementRecorded(item, now: now))
        case .known:
            throw KeyStatementRefused(description: "this node's key \(localID.shortForm) has already rolled over; the node switches to its successor")
        case .refused(let reason):
            throw KeyStatementRefused(description: "the roll was refused: \(reason)")
        }
    }

    /// Signs and gossips the revocation of `key`, by this node's key (it must be the key
    /// itself, or an operator key of the keyring file).
    ///
    /// - Returns: the directives (relay, members removed, snapshot).
    /// - Throws: ``KeyStatementRefused`` with the reason (an unknown key, no right to revoke it).
    public mutating func revokeKey(_ key: NodeID, now: Instant) throws(KeyStatementRefused) -> [AgentDirective] {
        let item = KeyRevocation.signed(revoking: key, by: codec.signer, now: now)
        switch codec.trust.record(item) {
        case .recorded:
            return keyStatementRecorded(item, now: now)
        case .known:
            throw KeyStatementRefused(description: "key \(key.shortForm) is already revoked")
        case .refused(let reason):
            throw KeyStatementRefused(description: "the revocation was refused: \(reason)")
        }
    }

    /// The statements to sync, first in every push-pull (a member needs a roll before it can
    /// admit anything the successor signed).
    var keySyncItems: [SignedItem] { codec.trust.statements }

    /// This node's earlier keys that rolled into its current one and are still in their
    /// overlap: datagrams addressed to them are this node's.
    static func formerIDs(of id: NodeID, in trust: KeyTrust) -> Set<NodeID> {
        var former: Set<NodeID> = []
        var key = id
        while let previous = trust.predecessor(of: key), former.count < KeyTrust.maxRollsPerRoot {
            former.insert(previous)
            key = previous
        }
        return former
    }

    /// The same node under its new key, to start once this agent has left: a new member
    /// (incarnation 1, a new session) that joins the members this agent knows, keeps the
    /// recorded key statements, answers datagrams addressed to its old key during the overlap,
    /// and learns the quorum view from the members, as any joining node does.
    ///
    /// - Parameters:
    ///   - signer: signs as the successor announced with ``announceKeyRoll(to:overlap:now:)``.
    ///   - seed: seeds the new agent's generator.
    ///   - now: the current time.
    public func continuation(as signer: any MessageSigner, seed: UInt64, now: Instant) -> Agent {
        let targets = membership.sortedMembers.filter(\.state.isLive).map { Destination(id: $0.id, endpoint: $0.endpoint) }
        return Agent(
            settings: settings, signer: signer, verifier: verifier, keyring: keyring,
            session: max(session + 1, UInt64(max(0, now.milliseconds))), incarnation: 1, joinTargets: targets,
            seed: seed, now: now, restoredView: nil, bootstrapView: false, gateways: gateways?.settings,
            keyStatements: codec.trust.statements)
    }
}
