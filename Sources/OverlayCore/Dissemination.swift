import Foundation

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
        /// The slot and the item's rank in it: `(incarnation, rank)` for a membership claim,
        /// `(sequence, 0)` for gateway items.
        let topic: (slot: Slot, rank: (UInt64, Int))?
        var transmits: Int
        /// When it was queued (a counter): newer items go first among those sent as often.
        let order: UInt64
    }

    /// The largest encoded item that fits a datagram alone, in bytes.
    let maxItemSize: Int
    /// The queued entries by their ``Entry/order``.
    private var byOrder: [UInt64: Entry] = [:]
    /// The orders of the queued entries in each slot (usually one; a late lower-ranked item is
    /// queued beside a higher one, as the agent only queues what it accepted).
    private var bySlot: [Slot: [UInt64]] = [:]
    /// The orders of queued items without a slot (votes), by signature: the same item twice is
    /// queued once.
    private var bySignature: [Data: UInt64] = [:]
    /// Orders by transmit count, each oldest first: `sendOrder[t]` holds the entries sent `t`
    /// times. Removed entries stay until the next compaction (``garbage`` counts them).
    private var sendOrder: [[UInt64]] = []
    private var garbage = 0
    private var counter: UInt64 = 0

    /// No item is smaller than this many bytes (its signature alone is 64, its origin 32): a
    /// datagram with less room left takes no more items.
    static let smallestItem = 96
    /// A datagram that found no room for this many queued items in a row is full: the rest of
    /// a long queue is not scanned for a smaller one (it goes in the next datagram).
    static let missesBeforeFull = 16

    init(maxItemSize: Int) { self.maxItemSize = maxItemSize }

    var isEmpty: Bool { byOrder.isEmpty }
    var count: Int { byOrder.count }

    /// The queued items, oldest first (for tests and diagnostics).
    var items: [SignedItem] { byOrder.keys.sorted().compactMap { byOrder[$0]?.item } }

    /// Queues an item, in constant time: the items it makes stale are found through its slot.
    ///
    /// - Returns: `false` if the item can never fit a datagram (and was not queued).
    @discardableResult
    mutating func enqueue(_ item: SignedItem) -> Bool {
        guard item.encodedSize <= maxItemSize else { return false }
        let topic = Self.topic(of: item)
        counter += 1
        if let topic {
            var kept: [UInt64] = []
            for order in bySlot[topic.slot] ?? [] {
                guard let other = byOrder[order] else { continue }
                if other.topic.map({ $0.rank < topic.rank }) ?? false || other.item == item {
                    drop(order)
                } else {
                    kept.append(order)
                }
            }
            bySlot[topic.slot] = kept + [counter]
        } else {
            let signature = item.wire.signature
            if let order = bySignature[signature], byOrder[order]?.item == item { drop(order) }
            bySignature[signature] = counter
        }
        byOrder[counter] = Entry(item: item, topic: topic, transmits: 0, order: counter)
        if sendOrder.isEmpty { sendOrder.append([]) }
        sendOrder[0].append(counter)
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
    /// Visits the entries sent fewest times first, newest first among those, and stops once
    /// the datagram has no room for even the smallest item (or found none that fits
    /// ``missesBeforeFull`` times in a row), so a long queue costs only what is taken (no
    /// sort, no scan of the rest).
    ///
    /// - Parameters:
    ///   - budget: the bytes available in the packet.
    ///   - overhead: the extra bytes each item costs in the packet, given its size.
    ///   - limit: the retransmit limit; items that reach it leave the queue.
    /// - Returns: the items, fewest transmissions (then newest) first.
    mutating func take(budget: Int, overhead: (Int) -> Int, limit: Int) -> [SignedItem] {
        guard !byOrder.isEmpty, budget > 0 else { return [] }
        var remaining = budget
        var chosen: [SignedItem] = []
        // Entries sent once more this time, by their old count, to file after the pass (so
        // none is visited twice).
        var promoted: [(transmits: Int, order: UInt64)] = []
        var transmits = 0
        var misses = 0
        while transmits < sendOrder.count, remaining >= Self.smallestItem, misses < Self.missesBeforeFull {
            var index = sendOrder[transmits].count
            var taken: [Int] = []
            while index > 0, remaining >= Self.smallestItem {
                index -= 1
                let order = sendOrder[transmits][index]
                guard let entry = byOrder[order], entry.transmits == transmits else { continue }
                let size = entry.item.encodedSize
                let cost = size + overhead(size)
                guard cost <= remaining else {
                    misses += 1
                    if misses >= Self.missesBeforeFull { break }
                    continue
                }
                misses = 0
                remaining -= cost
                chosen.append(entry.item)
                taken.append(index)
                promoted.append((transmits, order))
            }
            // Indices were collected from the back: removing in that order keeps the rest valid.
            for position in taken { sendOrder[transmits].remove(at: position) }
            transmits += 1
        }
        for (sent, order) in promoted {
            let now = sent + 1
            if now >= limit {
                drop(order, listed: false)
                continue
            }
            byOrder[order]?.transmits = now
            while sendOrder.count <= now { sendOrder.append([]) }
            // Promoted entries of one count arrive newest first; insert each in order.
            let list = sendOrder[now]
            var position = list.count
            while position > 0, list[position - 1] > order { position -= 1 }
            sendOrder[now].insert(order, at: position)
        }
        compactIfNeeded()
        return chosen
    }

    /// Removes an entry. `listed`: its order is still in ``sendOrder`` (left there as garbage).
    private mutating func drop(_ order: UInt64, listed: Bool = true) {
        guard let entry = byOrder.removeValue(forKey: order) else { return }
        if listed { garbage += 1 }
        if let slot = entry.topic?.slot {
            let left = (bySlot[slot] ?? []).filter { $0 != order }
            bySlot[slot] = left.isEmpty ? nil : left
        } else if bySignature[entry.item.wire.signature] == order {
            bySignature[entry.item.wire.signature] = nil
        }
    }

    /// Drops removed entries from ``sendOrder`` once they outnumber the live ones.
    private mutating func compactIfNeeded() {
        guard garbage > 64, garbage > byOrder.count else { return }
        for index in sendOrder.indices {
            sendOrder[index].removeAll { byOrder[$0]?.transmits != index }
        }
        while let last = sendOrder.last, last.isEmpty { sendOrder.removeLast() }
        garbage = 0
    }
}
