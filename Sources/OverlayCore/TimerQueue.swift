/// The core's timers: a min-heap of deadlines.
///
/// Timers leave the core as data (the shell only ever learns ``nextDeadline`` and calls back
/// when it passes) and come back as the `now` of the next tick. Ties fire in the order they were
/// scheduled, so a run is deterministic. Cancelled timers are not removed; their owner ignores
/// them when they fire (each timer carries what it needs to check it is still current).
struct TimerQueue<Timer: Sendable>: Sendable {
    private struct Entry: Sendable {
        var deadline: Instant
        var order: UInt64
        var timer: Timer
        func precedes(_ other: Entry) -> Bool { (deadline, order) < (other.deadline, other.order) }
    }

    private var heap: [Entry] = []
    private var counter: UInt64 = 0

    /// The earliest deadline, if any timer is pending.
    var nextDeadline: Instant? { heap.first?.deadline }

    /// The number of pending timers.
    var count: Int { heap.count }

    /// Schedules `timer` to fire at `deadline`.
    mutating func schedule(_ timer: Timer, at deadline: Instant) {
        counter += 1
        heap.append(Entry(deadline: deadline, order: counter, timer: timer))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest timer if its deadline is at or before `now`.
    mutating func popDue(now: Instant) -> Timer? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count, heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.timer
    }
}
