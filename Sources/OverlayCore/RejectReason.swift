/// Why a datagram or an item was refused. The daemon counts each under this label in
/// `/metrics` (`overlayd_rejected_total{reason="..."}`); the labels are stable.
public enum RejectReason: String, Error, Sendable, CaseIterable, Hashable {
    /// Larger than ``OverlayWire/WireFormat/datagramBudget``.
    case oversized
    /// Not decodable as a datagram, or missing a required field (truncated datagrams land here).
    case malformed
    /// A protocol version this build does not speak.
    case unsupportedVersion = "unsupported_version"
    /// The sender's key is not in the keyring (checked before any signature).
    case unknownSender = "unknown_sender"
    /// The sender sent more than its rate allows (checked before any signature).
    case rateLimited = "rate_limited"
    /// The packet's signature does not verify: tampered or forged.
    case badSignature = "bad_signature"
    /// A datagram already received (same session and sequence), or from an older session.
    case replayed
    /// A datagram addressed to another node.
    case misdirected
    /// The sender's clock is further from ours than the skew window allows.
    case clockSkew = "clock_skew"
    /// A join (a push-pull naming no recipient) without a valid cookie for the address it came
    /// from: answered with a challenge at most its own size, never with this node's state
    /// (``JoinGate``). A joiner's first attempt at each seed is counted here once.
    case unverifiedJoin = "unverified_join"
    /// An item that does not decode or breaks a rule of its kind (an ALIVE claim signed by someone else).
    case invalidItem = "invalid_item"
    /// An item whose origin is not in the keyring.
    case unknownOrigin = "unknown_origin"
    /// An item whose origin signature does not verify.
    case forgedItem = "forged_item"
}
