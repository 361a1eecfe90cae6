import Foundation

/// Remembers recently processed items, by their exact bytes, so that an item that arrives a
/// second time (gossip delivers each item several times) is dropped without a second
/// Ed25519 verification.
///
/// Keyed by the full item and signature bytes, not a short hash, so a forged item can never
/// pass as a cached one. Bounded: the oldest entries are forgotten first.
struct VerifiedItemCache: Sendable {
    /// How many items are remembered; 8192 items of ~170 bytes is about 1.4 MB at most.
    let capacity: Int
    private var members: Set<SignedItem> = []
    private var order: [SignedItem] = []
    private var next = 0

    init(capacity: Int = 8192) { self.capacity = capacity }

    /// Whether the item was seen recently.
    func contains(_ item: SignedItem) -> Bool { members.contains(item) }

    /// Remembers an item, forgetting the oldest if full.
    mutating func insert(_ item: SignedItem) {
        guard !members.contains(item) else { return }
        if order.count < capacity {
            order.append(item)
        } else {
            members.remove(order[next])
            order[next] = item
            next = (next + 1) % capacity
        }
        members.insert(item)
    }
}
