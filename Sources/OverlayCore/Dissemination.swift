/// The queue of items waiting to be piggybacked (SWIM 4.4, memberlist's TransmitLimitedQueue).
///
/// Each item is sent a bounded number of times, `λ · ceil(log10(N + 1))`; items sent fewest
/// times go first, so news spreads before repeats. A membership claim replaces queued claims
/// about the same member that it supersedes, so the queue never carries stale news. An item
/// too large for any datagram is refused here, when queued, never silently dropped later.
struct Dissemination: Sendable {
    struct Entry: Sendable {
        let item: SignedItem
        /// For membership claims: the subject and the claim's `(incarnation, rank)`.
        let topic: (NodeID, UInt64, Int)?
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
        var topic: (NodeID, UInt64, Int)?
        if case .member(let claim)? = item.item.kind, let state = MemberState(wire: claim.state),
           let subject = claim.subject.isEmpty ? item.origin : NodeID(bytes: claim.subject) {
            topic = (subject, claim.incarnation, state.rank)
            entries.removeAll { entry in
                guard let other = entry.topic, other.0 == subject else { return entry.item == item }
                return (other.1, other.2) < (claim.incarnation, state.rank) || entry.item == item
            }
        } else {
            entries.removeAll { $0.item == item }
        }
        counter += 1
        entries.append(Entry(item: item, topic: topic, transmits: 0, order: counter))
        return true
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
