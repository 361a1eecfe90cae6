/// A property a chaos run checks: a safety property after every step, and optionally a
/// liveness goal once the faults have healed.
///
/// TigerBeetle's VOPR checks safety continuously while faults rage, then heals the faults and
/// checks that the system makes progress. An invariant here does both halves: ``afterStep(_:in:)``
/// returns a violation the moment the property breaks; ``convergenceGap(in:)`` says what is
/// still missing for the healed cloud to be in its goal state (`nil` once it is).
///
/// Adding an invariant is adding a type and listing it: the runner takes any list
/// (``ChaosRun/init(seed:attacks:invariants:)``); ``MembershipInvariants/all()`` (SWIM) and
/// ``QuorumInvariants/all()`` (the quorum view) are the default.
public protocol Invariant {
    /// A short name for reports (`claims-move-forward`).
    var name: String { get }

    /// Checks the property after one step of the run.
    ///
    /// - Parameters:
    ///   - step: what the step did.
    ///   - cloud: the cloud after the step.
    /// - Returns: a violation if the property no longer holds.
    mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation?

    /// What is still missing for the healed cloud to reach this invariant's goal; `nil` when it
    /// has (or when the invariant has no liveness half). The runner calls it after healing,
    /// and reports a violation if it is not `nil` by the liveness deadline.
    func convergenceGap(in cloud: SimulatedCloud) -> String?
}

extension Invariant {
    /// No safety half.
    public mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation? { nil }

    /// No liveness half.
    public func convergenceGap(in cloud: SimulatedCloud) -> String? { nil }
}

/// An invariant that broke: which, when, and one sentence on what was seen.
public struct InvariantViolation: Error, Sendable, CustomStringConvertible {
    /// The invariant's name.
    public let invariant: String
    /// When it broke.
    public let time: SimTime
    /// What was seen.
    public let detail: String

    /// Creates a violation.
    public init(invariant: String, time: SimTime, detail: String) {
        self.invariant = invariant
        self.time = time
        self.detail = detail
    }

    /// One line: the invariant, the time and what was seen.
    public var description: String { "\(invariant) violated at \(time): \(detail)" }
}
