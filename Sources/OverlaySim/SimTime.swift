import OverlayCore

/// A point in the simulator's virtual time, in microseconds since the run began.
///
/// Microseconds rather than the core's milliseconds so that per-hop radio delays (a few
/// milliseconds) and jitter do not collapse onto the same instant; the core still sees whole
/// milliseconds through each node's ``NodeClock``. Virtual time never comes from a real clock:
/// the event queue moves it forward, so a run takes the same course however fast the machine is.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since the start of the run.
    public var microseconds: Int64

    /// Creates an instant from microseconds since the start of the run.
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// The start of every run.
    public static let zero = SimTime(microseconds: 0)

    /// The instant `seconds` after the start.
    public static func seconds(_ seconds: Double) -> SimTime { SimTime(microseconds: Int64((seconds * 1_000_000).rounded())) }

    /// Seconds since the start, as a floating-point number (for reports).
    public var seconds: Double { Double(microseconds) / 1_000_000 }

    /// Earlier first.
    public static func < (lhs: SimTime, rhs: SimTime) -> Bool { lhs.microseconds < rhs.microseconds }

    /// The instant `duration` later.
    public static func + (lhs: SimTime, rhs: Duration) -> SimTime { SimTime(microseconds: lhs.microseconds + rhs.microsecondsValue) }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: SimTime, rhs: SimTime) -> Duration { .microseconds(lhs.microseconds - rhs.microseconds) }

    /// `t=12.345s`.
    public var description: String { "t=\(Self.format(seconds))s" }

    static func format(_ value: Double) -> String {
        let scaled = (value * 1000).rounded() / 1000
        return String(scaled)
    }
}

extension Duration {
    /// The duration in whole microseconds (rounded toward zero).
    public var microsecondsValue: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

/// One node's clock: virtual time plus a fixed offset, running fast or slow by a rate error.
///
/// Real boxes in a community mesh often lack a real-time clock and drift between NTP syncs; the
/// core must cope (its clock-skew window, timers measured on its own clock). The simulator gives
/// every node its own clock, drawn from the seed, and converts both ways exactly in integer
/// arithmetic, so a run stays a function of its seed.
public struct NodeClock: Sendable, Equatable {
    /// Unix milliseconds at virtual time zero for a perfect clock: 2023-11-14, so that
    /// `sent_at_ms` and `issued_at_ms` look like real wall-clock times.
    public static let epochMilliseconds: Int64 = 1_700_000_000_000

    /// How far this clock is ahead of virtual time (negative: behind), in microseconds.
    public var offsetMicroseconds: Int64
    /// How fast it runs, in parts per million (positive: fast).
    public var ratePPM: Int64

    /// Creates a clock; the defaults give a perfect one.
    public init(offsetMicroseconds: Int64 = 0, ratePPM: Int64 = 0) {
        self.offsetMicroseconds = offsetMicroseconds
        self.ratePPM = ratePPM
    }

    /// This clock's reading, in microseconds since the Unix epoch, at virtual time `time`.
    func localMicroseconds(at time: Int64) -> Int64 {
        NodeClock.epochMilliseconds * 1000 + time + time * ratePPM / 1_000_000 + offsetMicroseconds
    }

    /// The core's `now` at virtual time `time`.
    public func instant(at time: SimTime) -> Instant {
        let local = localMicroseconds(at: time.microseconds)
        return Instant(milliseconds: local >= 0 ? local / 1000 : (local - 999) / 1000)
    }

    /// The earliest virtual time, not before `notBefore`, at which this clock reads `instant` or later.
    public func virtualTime(reaching instant: Instant, notBefore: SimTime) -> SimTime {
        let target = instant.milliseconds * 1000
        let base = target - NodeClock.epochMilliseconds * 1000 - offsetMicroseconds
        var time = base * 1_000_000 / (1_000_000 + ratePPM)
        while localMicroseconds(at: time) < target { time += 1 }
        while localMicroseconds(at: time - 1) >= target { time -= 1 }
        return SimTime(microseconds: max(time, notBefore.microseconds))
    }
}
