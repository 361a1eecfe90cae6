/// A point in time, in milliseconds since the Unix epoch.
///
/// The core never reads a clock: every input carries `now: Instant`. The daemon passes the wall
/// clock (items carry Unix times that other nodes compare against theirs); the simulator passes
/// virtual time.
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// Creates an instant from Unix milliseconds.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// The start of virtual time, for tests and the simulator.
    public static let zero = Instant(milliseconds: 0)

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The instant `duration` later.
    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        Instant(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }

    /// The instant `duration` earlier.
    public static func - (lhs: Instant, rhs: Duration) -> Instant {
        Instant(milliseconds: lhs.milliseconds - rhs.milliseconds)
    }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: Instant, rhs: Instant) -> Duration {
        .milliseconds(lhs.milliseconds - rhs.milliseconds)
    }

    public var description: String { "\(milliseconds)ms" }
}

extension Duration {
    /// The duration in whole milliseconds (rounded toward zero).
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in seconds, as a floating-point number.
    public var seconds: Double { Double(milliseconds) / 1000 }

    /// This duration multiplied by a factor, rounded to milliseconds.
    public func scaled(by factor: Double) -> Duration {
        .milliseconds(Int64((Double(milliseconds) * factor).rounded()))
    }
}
