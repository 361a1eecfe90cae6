/// A min-heap of events keyed by (virtual time, sequence).
///
/// The sequence number is assigned at insertion, so events due at the same microsecond run in
/// the order they were scheduled: the order never depends on anything but the run's own
/// history, which is what makes a run a function of its seed.
struct EventQueue<Payload> {
    struct Entry {
        let time: Int64
        let sequence: UInt64
        let payload: Payload

        @inline(__always)
        func precedes(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    private var heap: [Entry] = []
    private var counter: UInt64 = 0

    /// The number of pending events.
    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// The time of the earliest event.
    var nextTime: Int64? { heap.first?.time }

    mutating func push(_ payload: Payload, at time: Int64) {
        counter &+= 1
        heap.append(Entry(time: time, sequence: counter, payload: payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < count, heap[left].precedes(heap[smallest]) { smallest = left }
                if right < count, heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
