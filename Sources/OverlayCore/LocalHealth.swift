/// Lifeguard's local health multiplier (Lifeguard 3.1, memberlist's "awareness").
///
/// A node that is itself slow or cut off misses acks and would wrongly suspect healthy members.
/// Each sign of local trouble (a probe without ack, a missed nack, having to refute a suspicion
/// of itself) raises the score; each successful probe lowers it. Probe interval and timeout are
/// multiplied by `1 + score`, so a struggling node probes more gently and waits longer.
struct LocalHealth: Sendable {
    /// The cap on the score (``MembershipSettings/awarenessMax``).
    let maximum: Int
    /// The current score, `0...maximum`.
    private(set) var score = 0

    init(maximum: Int) { self.maximum = maximum }

    /// Adds `delta` (negative for good news), keeping the score within bounds.
    mutating func apply(_ delta: Int) {
        score = min(maximum, max(0, score + delta))
    }

    /// The factor applied to probe interval and timeout.
    var multiplier: Double { Double(score + 1) }
}
