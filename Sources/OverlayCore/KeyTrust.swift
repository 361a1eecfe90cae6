import Foundation

/// The keys this node admits: the operator's ``Keyring`` (the root of trust) extended by the
/// key statements recorded from the cloud (``KeyStatement``).
///
/// - A **roll** (``KeyRoll``, signed by the old key) admits its successor from `validFrom` for
///   as long as the keyring entry the chain of rolls started from is valid, and retires the
///   old key at `overlapUntil`. So a keyring-admitted cloud learns a node's new key from the
///   node itself, and during the overlap both keys work: members that have not heard of the
///   roll yet still hear the node under its old key, and one that comes back from an outage
///   learns the roll from any member's push-pull (statements travel first in every sync).
/// - A **revocation** (``KeyRevocation``) is valid from the revoked key itself (its holder) or
///   from a key the keyring file marks `role=operator`. It revokes the key and every successor
///   rolled from it that the keyring file does not list itself.
/// - Two **different rolls from one key** mean its private key is in two hands: the key and
///   every successor of it are treated as revoked, whatever order the rolls arrive in.
///
/// Removing a key from the keyring file (and reloading) removes every successor rolled from
/// it. Recording depends only on the statements and their order, not on the clock, so every
/// member that holds the same statements admits the same keys. Memory is bounded: a key rolls
/// at most once, a chain at most ``maxRollsPerRoot`` times, and only known keys are revoked.
public struct KeyTrust: Sendable {
    /// The operator's keyring file, as last loaded.
    public var keyring: Keyring
    /// The recorded rolls, by the key that rolled (its first roll, if it equivocated).
    public private(set) var rolls: [NodeID: KeyRoll] = [:]
    /// The recorded revocations, by revoked key.
    public private(set) var revocations: [NodeID: KeyRevocation] = [:]
    /// Keys that signed two different rolls.
    public private(set) var equivocated: Set<NodeID> = []
    /// Every recorded statement, in the order recorded (synced and persisted in this order, so
    /// a chain of rolls arrives root first).
    public private(set) var statements: [SignedItem] = []
    private var predecessors: [NodeID: NodeID] = [:]
    private var recorded: Set<Data> = []

    /// The most rolls in one chain from a keyring entry. 8: a key rolled once a year for
    /// eight years; beyond that the operator lists the current key in the keyring file again
    /// (which also keeps a chain's walk short for every admission check).
    public static let maxRollsPerRoot = 8

    /// What ``record(_:)`` did with a statement.
    public enum Outcome: Sendable, Equatable {
        /// New, valid and recorded: relay it and persist.
        case recorded
        /// Already recorded (or it changes nothing): drop it.
        case known
        /// Not a valid key statement, with the reason (refuse it, do not relay).
        case refused(String)
    }

    /// The standing of one key at one moment, as `overlayctl keys` shows it.
    public enum State: String, Sendable, CaseIterable, Codable {
        /// Admitted from a later moment (`from=` in the future, or a roll's `validFrom`).
        case pending
        /// Admitted.
        case active
        /// Rolled over to a successor and still admitted until the overlap ends.
        case overlap
        /// No longer admitted: its validity ended, or its overlap after a roll did.
        case retired
        /// Revoked (or it rolled twice), or descends from a revoked key.
        case revoked
    }

    /// Creates the trust of a keyring with no statements.
    public init(keyring: Keyring) { self.keyring = keyring }

    /// Creates the trust of a keyring and re-records persisted statements (each verified
    /// again: a statement that does not verify or no longer fits is skipped).
    public init(keyring: Keyring, restoring items: [SignedItem], verifier: any SignatureVerifier) {
        self.keyring = keyring
        for item in items where item.verify(with: verifier) { _ = record(item) }
    }

    /// Whether `id` is listed in the keyring file or admitted as a successor (at any time).
    public func isKnown(_ id: NodeID) -> Bool { keyring.entries[id] != nil || predecessors[id] != nil }

    /// The key `id` rolled from, if it is a recorded successor.
    public func predecessor(of id: NodeID) -> NodeID? { predecessors[id] }

    /// Whether `id` is revoked: itself, or a key it was rolled from (up to the nearest key the
    /// keyring file lists itself).
    public func isRevoked(_ id: NodeID) -> Bool {
        var key = id
        for _ in 0...Self.maxRollsPerRoot {
            if revocations[key] != nil || equivocated.contains(key) { return true }
            if keyring.entries[key] != nil { return false }
            guard let previous = predecessors[key] else { return false }
            key = previous
        }
        return false
    }

    /// The keyring entry a key descends from, and the number of rolls since.
    func root(of id: NodeID) -> (entry: Keyring.Entry, depth: Int)? {
        var key = id
        for depth in 0...Self.maxRollsPerRoot {
            if let entry = keyring.entries[key] { return (entry, depth) }
            guard let previous = predecessors[key] else { return nil }
            key = previous
        }
        return nil
    }

    /// Whether `id` is admitted at `now`: listed in the keyring file and valid, or a successor
    /// valid by its roll and its root entry; not revoked; not retired by a roll of its own.
    public func admits(_ id: NodeID, at now: Instant) -> Bool {
        state(of: id, at: now).map { $0 == .active || $0 == .overlap } ?? false
    }

    /// The standing of `id` at `now`; `nil` for a key that is neither listed nor a successor.
    public func state(of id: NodeID, at now: Instant) -> State? {
        guard let (entry, depth) = root(of: id) else { return nil }
        if isRevoked(id) { return .revoked }
        if let until = entry.validUntil, now >= until { return .retired }
        if depth == 0 {
            if let from = entry.validFrom, now < from { return .pending }
        } else if let previous = predecessors[id], let roll = rolls[previous], now < roll.validFrom {
            return .pending
        }
        if let roll = rolls[id] { return now < roll.overlapUntil ? .overlap : .retired }
        return .active
    }

    /// When `id` became (or becomes) admitted and stops being admitted, as far as known.
    public func validity(of id: NodeID) -> (from: Instant?, until: Instant?) {
        guard let (entry, depth) = root(of: id) else { return (nil, nil) }
        let from = depth == 0 ? entry.validFrom : predecessors[id].flatMap { rolls[$0]?.validFrom }
        let untils = [entry.validUntil, rolls[id]?.overlapUntil].compactMap { $0 }
        return (from, untils.min())
    }

    /// Every key listed or admitted as a successor, sorted.
    public var knownKeys: [NodeID] { (Array(keyring.entries.keys) + Array(predecessors.keys)).sorted() }

    /// Whether `item` is a statement already recorded.
    public func hasRecorded(_ item: SignedItem) -> Bool { recorded.contains(item.wire.signature) }

    /// Whether `roll` would admit its successor at `now` if it were recorded: for a datagram
    /// whose sender is such a successor and that carries the roll (see ``DatagramCodec``).
    public func wouldAdmit(_ roll: KeyRoll, at now: Instant) -> Bool {
        guard isKnown(roll.predecessor), !isRevoked(roll.predecessor),
              rolls[roll.predecessor] == nil || rolls[roll.predecessor] == roll,
              predecessors[roll.successor] == nil || predecessors[roll.successor] == roll.predecessor,
              keyring.entries[roll.successor] == nil,
              now >= roll.validFrom,
              let (entry, depth) = root(of: roll.predecessor), depth < Self.maxRollsPerRoot
        else { return false }
        return entry.validUntil.map { now < $0 } ?? true
    }

    /// Records a verified key statement (the caller has checked the origin's signature).
    ///
    /// The rules: the origin must be a known key, not revoked. A roll names a successor that is
    /// no other key's successor and has not rolled itself (so chains never loop), and extends a
    /// chain shorter than ``maxRollsPerRoot``; a second, different
    /// roll from the same key marks it ``equivocated``. A revocation names a known key and is
    /// signed by it or by an operator key of the keyring file.
    ///
    /// - Returns: what was done; `.refused` says why in words (for a log line).
    public mutating func record(_ item: SignedItem) -> Outcome {
        if hasRecorded(item) { return .known }
        guard let statement = KeyStatement(item) else { return .refused("not a well-formed key statement") }
        guard isKnown(item.origin) else { return .refused("its signer \(item.origin.shortForm) is neither in the keyring nor a successor") }
        guard !isRevoked(item.origin) else { return .known }
        switch statement {
        case .roll(let roll):
            if let existing = rolls[roll.predecessor] {
                if existing == roll || equivocated.contains(roll.predecessor) { return .known }
                equivocated.insert(roll.predecessor)
                append(item)
                return .recorded
            }
            // The successor may be listed in the keyring file (the operator listed it ahead, or
            // it is the node's own key, which a node always admits): it then stands on its own.
            guard roll.successor != roll.predecessor, predecessors[roll.successor] == nil, rolls[roll.successor] == nil else {
                return .refused("its successor \(roll.successor.shortForm) is already a successor or has rolled itself")
            }
            guard let (_, depth) = root(of: roll.predecessor), depth < Self.maxRollsPerRoot else {
                return .refused("the key has rolled \(Self.maxRollsPerRoot) times since the keyring listed it; list its successor in the keyring file")
            }
            rolls[roll.predecessor] = roll
            predecessors[roll.successor] = roll.predecessor
        case .revocation(let revocation):
            guard isKnown(revocation.key) else { return .refused("it revokes \(revocation.key.shortForm), which is not a known key") }
            guard revocation.by == revocation.key || keyring.entries[revocation.by]?.mayRevoke == true else {
                return .refused("\(revocation.by.shortForm) may not revoke \(revocation.key.shortForm): only the key itself or an operator key (role=operator in the keyring) may")
            }
            if isRevoked(revocation.key) { return .known }
            revocations[revocation.key] = revocation
        }
        append(item)
        return .recorded
    }

    private mutating func append(_ item: SignedItem) {
        statements.append(item)
        recorded.insert(item.wire.signature)
    }
}
