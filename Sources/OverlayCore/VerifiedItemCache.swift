import Foundation
import OverlayWire

/// Remembers recently processed items, by their exact bytes, so that an item that arrives a
/// second time (gossip delivers each item several times) is dropped without a second
/// Ed25519 verification.
///
/// Keyed by the full item and signature bytes, not a short hash, so a forged item can never
/// pass as a cached one. Bounded: the oldest entries are forgotten first.
struct VerifiedItemCache: Sendable {
    /// What identifies an item: its exact signed bytes and its signature, as they travel.
    private struct Key: Hashable, Sendable {
        let item: Data
        let signature: Data
        init(_ wire: Overlayd_V1_SignedItem) {
            item = wire.item
            signature = wire.signature
        }
    }

    /// How many items are remembered; 8192 items of ~170 bytes is about 1.4 MB at most.
    let capacity: Int
    private var members: Set<Key> = []
    private var order: [Key] = []
    private var next = 0

    init(capacity: Int = 8192) { self.capacity = capacity }

    /// Whether the item was seen recently.
    func contains(_ item: SignedItem) -> Bool { contains(wire: item.wire) }

    /// Whether an item as received (not yet decoded) was seen recently: the duplicate check
    /// that comes before any decoding, so a copy costs one hash lookup.
    func contains(wire: Overlayd_V1_SignedItem) -> Bool { members.contains(Key(wire)) }

    /// Remembers an item, forgetting the oldest if full.
    mutating func insert(_ item: SignedItem) {
        let key = Key(item.wire)
        guard !members.contains(key) else { return }
        if order.count < capacity {
            order.append(key)
        } else {
            members.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
        members.insert(key)
    }
}
