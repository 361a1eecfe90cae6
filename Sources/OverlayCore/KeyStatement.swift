import Foundation
import OverlayWire

/// A signed statement about keys, gossiped through the cloud as an item and recorded by every
/// member (``KeyTrust``): a key roll or a revocation.
///
/// Statements change who is admitted, so they are checked more strictly than other items:
/// see ``KeyTrust/record(_:at:)`` for the rules.
public enum KeyStatement: Sendable, Equatable {
    /// A node rolled its key: the origin announces its successor.
    case roll(KeyRoll)
    /// A key is revoked cloud-wide.
    case revocation(KeyRevocation)

    /// Decodes the statement an item makes, or `nil` for other items and malformed statements
    /// (a successor or revoked key that is not 32 bytes, an overlap that ends before it starts).
    public init?(_ item: SignedItem) {
        switch item.item.kind {
        case .keyRoll(let roll)?:
            guard let successor = NodeID(bytes: roll.successor),
                  roll.overlapUntilMs >= roll.validFromMs,
                  roll.overlapUntilMs <= UInt64(Int64.max)
            else { return nil }
            self = .roll(KeyRoll(
                predecessor: item.origin, successor: successor,
                validFrom: Instant(milliseconds: Int64(roll.validFromMs)),
                overlapUntil: Instant(milliseconds: Int64(roll.overlapUntilMs))))
        case .keyRevocation(let revocation)?:
            guard let key = NodeID(bytes: revocation.key) else { return nil }
            self = .revocation(KeyRevocation(key: key, by: item.origin, issuedAt: Instant(milliseconds: Int64(clamping: item.item.issuedAtMs))))
        default:
            return nil
        }
    }

    /// Whether an item is a key statement (well formed or not).
    static func isKeyStatement(_ item: SignedItem) -> Bool {
        switch item.item.kind {
        case .keyRoll?, .keyRevocation?: true
        default: false
        }
    }
}

/// A node's announcement, signed by its old key, that its new key takes over.
public struct KeyRoll: Sendable, Equatable, Hashable {
    /// The old key (the statement's origin).
    public var predecessor: NodeID
    /// The new key.
    public var successor: NodeID
    /// When the successor becomes admitted.
    public var validFrom: Instant
    /// When the predecessor stops being admitted: the end of the overlap, during which both
    /// are valid so that members that have not heard of the roll yet keep hearing the node.
    public var overlapUntil: Instant

    /// Creates a roll.
    public init(predecessor: NodeID, successor: NodeID, validFrom: Instant, overlapUntil: Instant) {
        self.predecessor = predecessor
        self.successor = successor
        self.validFrom = validFrom
        self.overlapUntil = overlapUntil
    }

    /// The statement, signed by the predecessor's signer.
    ///
    /// - Parameters:
    ///   - signer: signs as ``predecessor``.
    ///   - now: the signer's clock.
    public func signed(by signer: any MessageSigner, now: Instant) -> SignedItem {
        precondition(signer.nodeID == predecessor, "a key roll is signed by the key that rolls")
        var wire = Overlayd_V1_KeyRoll()
        wire.successor = successor.data
        wire.validFromMs = UInt64(max(0, validFrom.milliseconds))
        wire.overlapUntilMs = UInt64(max(0, overlapUntil.milliseconds))
        return SignedItem(kind: .keyRoll(wire), signer: signer, now: now)
    }
}

/// A revocation of one key, by the key itself or by an operator key.
public struct KeyRevocation: Sendable, Equatable, Hashable {
    /// The revoked key.
    public var key: NodeID
    /// Who signed the revocation.
    public var by: NodeID
    /// When, by the signer's clock.
    public var issuedAt: Instant

    /// Creates a revocation.
    public init(key: NodeID, by: NodeID, issuedAt: Instant) {
        self.key = key
        self.by = by
        self.issuedAt = issuedAt
    }

    /// The statement revoking `key`, signed by `signer` (the key itself or an operator key).
    public static func signed(revoking key: NodeID, by signer: any MessageSigner, now: Instant) -> SignedItem {
        var wire = Overlayd_V1_KeyRevocation()
        wire.key = key.data
        return SignedItem(kind: .keyRevocation(wire), signer: signer, now: now)
    }
}
