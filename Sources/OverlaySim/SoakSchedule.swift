import Foundation
import OverlayCore

/// What a churn soak does to a cloud, and for how long (`overlay-sim soak`).
///
/// The defaults describe a community neighbourhood: boxes in homes that are up about 90% of
/// the time (community nodes are up 88-95%), each going down on its own now and then for
/// anything from a minute (a reboot, a pulled plug) to a day (the owner away, a dead power
/// supply), and a few power cuts that take a whole street down at once.
public struct SoakSettings: Sendable {
    /// Nodes in the cloud. Default 30: a mid-sized neighbourhood cloud.
    public var nodeCount = 30
    /// The fraction of datagrams lost. Default 5%: an ordinary lossy radio mesh.
    public var lossRate = 0.05
    /// Virtual time the soak runs, warm-up included. Default one week.
    public var duration: Duration = .seconds(7 * 86_400)
    /// Time the cloud joins before outages start and figures are taken. Default 10 minutes:
    /// 30 nodes join and are admitted in about 2 minutes on the radio timings.
    public var warmUp: Duration = .seconds(600)
    /// The fraction of time each node is up, outside power cuts. Default 0.9.
    public var uptime = 0.9
    /// The shortest independent outage. Default 1 minute (a reboot).
    public var shortestOutage: Duration = .seconds(60)
    /// The longest independent outage. Default one day. Lengths are log-uniform between the
    /// two (as many 1-10 minute outages as 2-20 hour ones), so the mean outage is
    /// `(longest - shortest) / ln(longest / shortest)`: 3.6 hours with the defaults, and the
    /// mean time up between outages `uptime / (1 - uptime)` times that: 32.5 hours.
    public var longestOutage: Duration = .seconds(86_400)
    /// Power cuts that stop every node at once. Default 3 in the run (one in each third of it).
    public var powerCuts = 3
    /// The shortest power cut. Default 5 minutes.
    public var shortestPowerCut: Duration = .seconds(300)
    /// The longest power cut (log-uniform between the two). Default 4 hours.
    public var longestPowerCut: Duration = .seconds(4 * 3600)
    /// When the power comes back, each box boots after a delay uniform in `0..<bootSpread`.
    /// Default 3 minutes: a router that checks its flash, a box on a slow disk.
    public var bootSpread: Duration = .seconds(180)
    /// The bound the soak holds removals and readmissions to. Default 2 minutes (the issue's
    /// target).
    public var target: Duration = .seconds(120)
    /// How often the view size and the running nodes are recorded for the time series.
    /// Default 1 minute.
    public var seriesInterval: Duration = .seconds(60)

    /// Creates the defaults.
    public init() {}

    /// The mean independent outage of the log-uniform law.
    public var meanOutage: Duration {
        let low = shortestOutage.seconds, high = longestOutage.seconds
        guard high > low else { return shortestOutage }
        return .milliseconds(Int64((high - low) / log(high / low) * 1000))
    }
}

/// One crash or restart of a soak's plan.
public struct SoakEvent: Sendable, Equatable {
    /// When.
    public var time: SimTime
    /// Which node.
    public var node: Int
    /// `true`: the node crashes (no leave); `false`: it starts again from its snapshot.
    public var crash: Bool
    /// Whether the event belongs to a whole-cloud power cut.
    public var powerCut: Bool
}

/// A soak's plan, drawn from its seed: every node's outages, the power cuts, and the crashes
/// and restarts they make.
///
/// Each node alternates between up (exponential, mean ``SoakSettings/meanOutage`` times
/// `uptime / (1 - uptime)`) and down (log-uniform). At the end of the warm-up a node is
/// already down with probability `1 - uptime`, so the run starts near the steady state rather
/// than with every node up. A power cut stops every running node at its start; when the power
/// comes back each node boots after its own delay, unless its own outage keeps it down longer.
/// A node's outages and the cuts are merged, so a node is never crashed twice.
public struct SoakSchedule: Sendable {
    /// The crashes and restarts, by time (then node).
    public let events: [SoakEvent]
    /// The power cuts: when the power went and came back.
    public let powerCuts: [(start: SimTime, end: SimTime)]
    /// The fraction of node time, after the warm-up, that nodes were planned up.
    public let plannedUptime: Double

    /// Draws the plan of `settings` from `seed`.
    public init(settings: SoakSettings, seed: UInt64) {
        var rng = DeterministicRandom.stream(seed, 0x50A4)
        let start = SimTime.zero + settings.warmUp
        let end = SimTime.zero + settings.duration
        let meanOutage = settings.meanOutage.seconds
        let meanUp = meanOutage * settings.uptime / max(1e-9, 1 - settings.uptime)

        func logUniform(_ low: Duration, _ high: Duration) -> Duration {
            let a = low.seconds, b = max(low.seconds, high.seconds)
            return .milliseconds(Int64(exp(rng.uniform(log(a), log(b) + 1e-12)) * 1000))
        }

        var cuts: [(SimTime, SimTime)] = []
        let count = max(0, settings.powerCuts)
        if count > 0, end > start {
            let segment = (end - start).seconds / Double(count)
            for index in 0..<count {
                let length = logUniform(settings.shortestPowerCut, settings.longestPowerCut)
                let room = max(0, segment - length.seconds - settings.bootSpread.seconds)
                let at = start + .milliseconds(Int64((Double(index) * segment + rng.uniform(0, room)) * 1000))
                cuts.append((at, at + length))
            }
        }

        var events: [SoakEvent] = []
        var downTime = 0.0
        for node in 0..<settings.nodeCount {
            var own: [(SimTime, SimTime)] = []
            var time = start
            var down = rng.chance(1 - settings.uptime)
            while time < end {
                if down {
                    let length = logUniform(settings.shortestOutage, settings.longestOutage)
                    own.append((time, time + length))
                    time = time + length
                } else {
                    time = time + .milliseconds(Int64(rng.exponential(mean: meanUp) * 1000))
                }
                down.toggle()
            }
            var intervals = own.map { ($0.0, $0.1, false) }
            for (cutStart, cutEnd) in cuts {
                let boot = Duration.milliseconds(Int64(rng.uniform(0, settings.bootSpread.seconds) * 1000))
                intervals.append((cutStart, cutEnd + boot, true))
            }
            intervals.sort { ($0.0, $0.1) < ($1.0, $1.1) }
            var merged: [(SimTime, SimTime, Bool)] = []
            for interval in intervals {
                if let last = merged.last, interval.0 <= last.1 {
                    merged[merged.count - 1] = (last.0, max(last.1, interval.1), last.2)
                } else {
                    merged.append(interval)
                }
            }
            for (down, up, cut) in merged where down < end {
                events.append(SoakEvent(time: down, node: node, crash: true, powerCut: cut))
                downTime += (min(up, end) - down).seconds
                if up < end { events.append(SoakEvent(time: up, node: node, crash: false, powerCut: cut)) }
            }
        }
        events.sort { ($0.time, $0.node, $0.crash ? 0 : 1) < ($1.time, $1.node, $1.crash ? 0 : 1) }
        self.events = events
        self.powerCuts = cuts
        let total = Double(settings.nodeCount) * max(0, (end - start).seconds)
        plannedUptime = total > 0 ? 1 - downTime / total : 1
    }
}
