import Foundation

/// Runs independent simulations on every core and returns their results in input order.
///
/// Each simulation is a function of its own seed and shares nothing with the others, so the
/// results (and everything printed from them) are the same whatever the scheduling; only the
/// wall-clock time changes.
enum Parallel {
    static func map<Input: Sendable, Output: Sendable>(_ inputs: [Input], _ body: @Sendable (Input) -> Output) -> [Output] {
        let box = ResultBox<Output>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
            box.set(index, body(inputs[index]))
        }
        return box.values()
    }
}

private final class ResultBox<Output: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Output?]

    init(count: Int) { slots = [Output?](repeating: nil, count: count) }

    func set(_ index: Int, _ value: Output) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func values() -> [Output] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}
