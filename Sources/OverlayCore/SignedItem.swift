import Foundation
import OverlayWire

/// An item as its origin signed it: the exact bytes that travel, plus its decoded form.
///
/// Relays forward ``wire`` unchanged, so any node can check the origin's signature and nobody
/// can alter a statement on the way.
public struct SignedItem: Sendable, Hashable {
    /// The item and signature as they travel.
    public let wire: Overlayd_V1_SignedItem
    /// The decoded item (decoded once, when it was created or received).
    public let item: Overlayd_V1_Item
    /// The origin, decoded from ``item``.
    public let origin: NodeID
    /// The size of ``wire`` once encoded, in bytes, for packing datagrams.
    public let encodedSize: Int

    /// Wraps a received item; `nil` if its item bytes do not decode or its origin is not a key.
    init?(wire: Overlayd_V1_SignedItem) {
        guard let item = try? Overlayd_V1_Item(serializedBytes: wire.item),
              let origin = NodeID(bytes: item.origin),
              wire.signature.count == WireFormat.signatureLength
        else { return nil }
        self.wire = wire
        self.item = item
        self.origin = origin
        self.encodedSize = Self.encodedSize(of: wire)
    }

    /// Signs a new item as `signer`.
    ///
    /// - Parameters:
    ///   - kind: what the item says.
    ///   - signer: the origin's signer.
    ///   - now: the origin's clock, written as `issued_at_ms`.
    public init(kind: Overlayd_V1_Item.OneOf_Kind, signer: any MessageSigner, now: Instant) {
        var item = Overlayd_V1_Item()
        item.origin = signer.nodeID.data
        item.issuedAtMs = UInt64(max(0, now.milliseconds))
        item.kind = kind
        let bytes: Data = (try? item.serializedBytes()) ?? Data()
        var wire = Overlayd_V1_SignedItem()
        wire.item = bytes
        wire.signature = signer.sign(SigningDomain.item.message(for: bytes))
        self.wire = wire
        self.item = item
        self.origin = signer.nodeID
        self.encodedSize = Self.encodedSize(of: wire)
    }

    /// The size `wire` encodes to, computed from its fields rather than by encoding it again:
    /// each non-empty bytes field costs its tag (one byte), its length as a varint and its
    /// bytes, and unknown fields (from a newer version) are written back as they came.
    static func encodedSize(of wire: Overlayd_V1_SignedItem) -> Int {
        func field(_ bytes: Data) -> Int { bytes.isEmpty ? 0 : 1 + DatagramCodec.varintLength(UInt64(bytes.count)) + bytes.count }
        return field(wire.item) + field(wire.signature) + wire.unknownFields.data.count
    }

    /// Whether the origin's signature verifies.
    func verify(with verifier: any SignatureVerifier) -> Bool {
        verifier.verify(signature: wire.signature, message: SigningDomain.item.message(for: wire.item), signer: origin)
    }

    public static func == (lhs: SignedItem, rhs: SignedItem) -> Bool { lhs.wire == rhs.wire }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(wire.item)
        hasher.combine(wire.signature)
    }
}
