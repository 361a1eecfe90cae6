/// One suspicion of one member, with Lifeguard's shrinking timeout (Lifeguard 3.2).
///
/// The timeout starts at `max` and falls toward `min` as independent members confirm it:
/// `timeout(c) = max(min, max - (max - min) · log(c + 1) / log(K + 1))`, where `c` counts
/// confirmations from members other than the first suspector and `K` is the number expected.
/// Each suspector counts once, however often its claim arrives.
struct Suspicion: Sendable {
    /// The suspected incarnation; a suspicion of an older incarnation is void.
    let incarnation: UInt64
    /// When this node learned of the suspicion.
    let start: Instant
    let minTimeout: Duration
    let maxTimeout: Duration
    let expectedConfirmations: Int
    /// The members that suspect it, the first included.
    private(set) var suspectors: Set<NodeID>

    init(incarnation: UInt64, by suspector: NodeID, start: Instant, min: Duration, max: Duration, expectedConfirmations: Int) {
        self.incarnation = incarnation
        self.start = start
        self.minTimeout = min
        self.maxTimeout = max
        self.expectedConfirmations = expectedConfirmations
        self.suspectors = [suspector]
    }

    /// Independent confirmations so far (suspectors beyond the first).
    var confirmations: Int { suspectors.count - 1 }

    /// Records a suspector; returns `true` if it is a new, independent one.
    mutating func confirm(by suspector: NodeID) -> Bool {
        suspectors.insert(suspector).inserted
    }

    /// The current timeout, from ``start``.
    var timeout: Duration {
        guard expectedConfirmations > 0, confirmations > 0 else {
            return expectedConfirmations == 0 ? minTimeout : maxTimeout
        }
        let fraction = log(Double(confirmations + 1)) / log(Double(expectedConfirmations + 1))
        let range = Double(maxTimeout.milliseconds - minTimeout.milliseconds)
        let value = Double(maxTimeout.milliseconds) - range * fraction
        return .milliseconds(Swift.max(minTimeout.milliseconds, Int64(value.rounded())))
    }

    /// When the member is declared failed unless it refutes first.
    var deadline: Instant { start + timeout }
}

import Foundation
