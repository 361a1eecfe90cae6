import Foundation

/// Constants of the wire format that both ends must agree on.
///
/// The schema itself is `overlay.proto` beside this file (generated code: `overlay.pb.swift`);
/// `Docs/protocol.md` explains it field by field.
public enum WireFormat {
    /// The protocol version this build speaks and writes into every datagram.
    ///
    /// Version 1: SWIM membership claims, probes, push-pull sync.
    public static let version: UInt32 = 1

    /// The largest UDP payload a node sends or accepts, in bytes.
    ///
    /// 1200 bytes survive the encapsulation a mesh adds (batman-adv's 32-byte header, tinc or
    /// WireGuard tunnels, 6in4) inside a 1280-byte IPv6 minimum MTU, so a datagram is never
    /// fragmented. Piggybacked items are packed to fill it; an item that cannot fit even alone
    /// is refused when it is queued.
    public static let datagramBudget = 1200

    /// The Ed25519 public key length, in bytes.
    public static let keyLength = 32

    /// The Ed25519 signature length, in bytes.
    public static let signatureLength = 64
}

/// Domain tags prepended to the bytes that are signed, so that a signature made for one purpose
/// can never be replayed as another (a signed packet is never a valid signed item, and so on).
public enum SigningDomain: String, Sendable, CaseIterable {
    /// A whole packet, signed by its sender.
    case packet = "overlayd/1/packet"
    /// A relayed item, signed by its origin.
    case item = "overlayd/1/item"
    /// A join cookie, signed by the member that issued it to a joiner's address (`JoinGate` in
    /// the core): only ever checked by its own issuer.
    case joinCookie = "overlayd/1/join-cookie"

    /// The bytes actually signed: the tag, a zero byte, then the payload.
    public func message(for payload: Data) -> Data {
        var out = Data(rawValue.utf8)
        out.append(0)
        out.append(payload)
        return out
    }
}
