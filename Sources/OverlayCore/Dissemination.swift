/// The queue of items waiting to be piggybacked (SWIM 4.4, memberlist's TransmitLimitedQueue).
///
/// Each item is sent a bounded number of times, `λ · ceil(log10(N + 1))`; items sent fewest
/// times go first, so news spreads before repeats. An item replaces the queued items it
/// supersedes, so the queue never carries stale news: a membership claim the claims about the
/// same member with a lower `(incarnation, rank)`; a gateway observation, gateway announcement
/// or selection announcement its origin's earlier ones about the same thing (a lower
/// sequence). That also bounds the queue: at most one item per member, per (observer,
/// gateway) and per announcing node, plus votes. An item too large for any datagram is
/// refused here, when queued, never silently dropped later.
struct Dissemination: Sendable {
    /// What an item is news about, when a newer item about the same thing makes it stale.
    enum Slot: Hashable, Sendable {
        /// A member's state (the claim's subject, whoever made it).
        case member(NodeID)
        /// One observer's measurement of one gateway.
        case observation(NodeID, String)
        /// A gateway node's announcement of its gateway.
        case gateway(NodeID)
        /// A node's selection.
        case selection(NodeID)
    }

    struct Entry: Sendable {
        let item: SignedItem
        /// A hash of the slot (or, without one, of the item's signature): compared first, so
        /// the scan for stale entries touches one integer per entry.
        let key: Int
        /// The slot and the item's rank in it: `(incarnation, rank)` for a membership claim,
        /// `(sequence, 0)` for gateway items.
        let topic: (slot: Slot, rank: (UInt64, Int))?
        var transmits: Int
        let order: UInt64
    }

    /// The largest encoded item that fits a datagram alone, in bytes.
    let maxItemSize: Int
    private(set) var entries: [Entry] = []
    private var counter: UInt64 = 0

    init(maxItemSize: Int) { self.maxItemSize = maxItemSize }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// Queues an item.
    ///
    /// - Returns: `false` if the item can never fit a datagram (and was not queued).
    @discardableResult
    mutating func enqueue(_ item: SignedItem) -> Bool {
        guard item.encodedSize <= maxItemSize else { return false }
        let topic = Self.topic(of: item)
        let key = topic.map { $0.slot.hashValue } ?? item.wire.signature.hashValue
        // From the back, removing in place: stale entries are few (one per slot), and removal
        // by index moves the others without copying them.
        var index = entries.count
        while index > 0 {
            index -= 1
            guard entries[index].key == key else { continue }
            let stale: Bool
            if let topic, let other = entries[index].topic, other.slot == topic.slot {
                stale = other.rank < topic.rank || entries[index].item == item
            } else {
                stale = entries[index].item == item
            }
            if stale { entries.remove(at: index) }
        }
        counter += 1
        entries.append(Entry(item: item, key: key, topic: topic, transmits: 0, order: counter))
        return true
    }

    /// The slot an item fills and its rank there; `nil` for items that supersede nothing
    /// (votes, kinds of newer versions).
    static func topic(of item: SignedItem) -> (slot: Slot, rank: (UInt64, Int))? {
        switch item.item.kind {
        case .member(let claim)?:
            guard let state = MemberState(wire: claim.state),
                  let subject = claim.subject.isEmpty ? item.origin : NodeID(bytes: claim.subject) else { return nil }
            return (.member(subject), (claim.incarnation, state.rank))
        case .observation(let observation)?:
            return (.observation(item.origin, observation.gateway), (observation.sequence, 0))
        case .gateway(let announcement)?:
            return (.gateway(item.origin), (announcement.sequence, 0))
        case .selection(let selection)?:
            return (.selection(item.origin), (selection.sequence, 0))
        default:
            return nil
        }
    }

    /// Takes the items to piggyback on one datagram.
    ///
    /// - Parameters:
    ///   - budget: the bytes available in the packet.
    ///   - overhead: the extra bytes each item costs in the packet, given its size.
    ///   - limit: the retransmit limit; items that reach it leave the queue.
    /// - Returns: the items, fewest transmissions (then newest) first.
    mutating func take(budget: Int, overhead: (Int) -> Int, limit: Int) -> [SignedItem] {
        guard !entries.isEmpty, budget > 0 else { return [] }
        entries.sort { ($0.transmits, -Int64($0.order)) < ($1.transmits, -Int64($1.order)) }
        var remaining = budget
        var chosen: [SignedItem] = []
        for index in entries.indices {
            let cost = entries[index].item.encodedSize + overhead(entries[index].item.encodedSize)
            guard cost <= remaining else { continue }
            remaining -= cost
            chosen.append(entries[index].item)
            entries[index].transmits += 1
        }
        entries.removeAll { $0.transmits >= limit }
        return chosen
    }
}
