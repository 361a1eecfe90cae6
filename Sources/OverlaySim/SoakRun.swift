import Foundation
import OverlayCore

/// A churn soak: one cloud of real agents for a long stretch of virtual time under independent
/// node outages and whole-cloud power cuts, with the chaos runs' safety invariants after every
/// step, measuring what the quorum view gives the services that rely on it.
///
/// The figures (``SoakOutcome``) are taken after the warm-up, against the newest view any node
/// committed (or adopted): whether the running nodes are a majority of it (the *majority side*)
/// and whether a majority of it is running *and reports quorum*; how long a crashed member
/// stays in the view and a restarted one outside it; and removals of members that were running
/// all along (*false removals*). A removal or readmission can only happen while a majority of
/// the view runs, so its time is counted from the crash (or restart), or from the moment the
/// running nodes became a majority again if that is later (after a power cut).
public struct SoakRun {
    /// The plan.
    public let settings: SoakSettings
    /// The seed.
    public let seed: UInt64
    /// The crashes and restarts.
    public let schedule: SoakSchedule
    private var invariants: [any Invariant]

    /// Prepares a soak.
    ///
    /// - Parameters:
    ///   - settings: the cloud, the churn and the targets.
    ///   - seed: the seed everything is drawn from.
    ///   - invariants: the safety properties checked after every step (default: the chaos
    ///     runs' membership and quorum invariants; their liveness halves are not used, since a
    ///     soak never heals).
    public init(
        settings: SoakSettings, seed: UInt64,
        invariants: [any Invariant] = MembershipInvariants.all() + QuorumInvariants.all()
    ) {
        self.settings = settings
        self.seed = seed
        self.schedule = SoakSchedule(settings: settings, seed: seed)
        self.invariants = invariants
    }

    /// Runs the soak to its end, or to the first violated invariant.
    ///
    /// - Parameter progress: called about once per virtual hour with the virtual time reached
    ///   (for a progress line; it decides nothing).
    public mutating func run(progress: ((SimTime) -> Void)? = nil) -> SoakOutcome {
        var configuration = CloudConfiguration(nodeCount: settings.nodeCount)
        configuration.network.lossRate = settings.lossRate
        let cloud = SimulatedCloud(configuration: configuration, seed: seed)
        var tracker = SoakTracker(settings: settings, cloud: cloud)
        cloud.startAll()
        let end = SimTime.zero + settings.duration
        var nextEvent = 0
        var nextSeries = SimTime.zero + settings.warmUp
        var nextProgress = SimTime.seconds(3600)
        var violation: InvariantViolation?

        run: while true {
            let eventTime = nextEvent < schedule.events.count ? schedule.events[nextEvent].time : end
            let until = min(eventTime, nextSeries, end)
            while let next = cloud.nextEventTime, next <= until {
                guard let record = cloud.step() else { break }
                for index in invariants.indices {
                    if let found = invariants[index].afterStep(record, in: cloud) {
                        violation = found
                        break run
                    }
                }
                tracker.afterStep(record, in: cloud)
            }
            cloud.run(until: until)
            tracker.advance(to: cloud.now)
            if cloud.now >= nextProgress {
                progress?(cloud.now)
                nextProgress = nextProgress + .seconds(3600)
            }
            if until >= end { break }
            if until == nextSeries {
                tracker.recordSeries(in: cloud)
                nextSeries = nextSeries + settings.seriesInterval
            }
            while nextEvent < schedule.events.count, schedule.events[nextEvent].time <= cloud.now {
                let event = schedule.events[nextEvent]
                nextEvent += 1
                if event.crash {
                    cloud.crash(event.node)
                    tracker.crashed(event.node, in: cloud)
                } else {
                    cloud.scheduleStart(event.node, at: cloud.now)
                }
            }
        }
        tracker.advance(to: cloud.now)
        return tracker.outcome(seed: seed, schedule: schedule, violation: violation, steps: cloud.steps, in: cloud)
    }
}

/// What a soak measured.
public struct SoakOutcome: Sendable {
    /// One point of the time series.
    public struct Sample: Sendable {
        /// When.
        public let time: SimTime
        /// Members of the newest committed view.
        public let viewSize: Int
        /// Nodes running.
        public let running: Int
        /// Running nodes that are members of that view.
        public let runningMembers: Int
        /// Running members that report quorum.
        public let quorate: Int
    }

    /// A stretch of time when the running nodes were a majority of the view but fewer than a
    /// majority of it reported quorum.
    public struct Gap: Sendable {
        /// When it started.
        public let start: SimTime
        /// How long it lasted.
        public let length: Duration
    }

    /// The seed.
    public let seed: UInt64
    /// The plan.
    public let settings: SoakSettings
    /// The first violated invariant; `nil` if every one held for the whole run.
    public let violation: InvariantViolation?
    /// Virtual time measured (after the warm-up, up to the end or the violation).
    public let measured: Duration
    /// Of that, the time the running nodes were a majority of the newest view.
    public let majorityTime: Duration
    /// Of that, the time a majority of the view was running and reported quorum.
    public let quorateTime: Duration
    /// The stretches without quorum while a majority ran, longest first.
    public let gaps: [Gap]
    /// Crash-to-removal times (seconds), one per crashed member that was removed.
    public let removals: [Double]
    /// Crashed members that restarted before they were removed (a short outage).
    public let backBeforeRemoval: Int
    /// Crashed members still in the view longer than the target at the end of the run.
    public let removalsOverdueAtEnd: Int
    /// Restart-to-readmission times (seconds), one per restarted non-member that was admitted.
    public let readmissions: [Double]
    /// Restarted nodes that were still members (their outage was short).
    public let restartedAsMembers: Int
    /// Restarted non-members that crashed again before they were admitted.
    public let downBeforeReadmission: Int
    /// Restarted nodes still outside the view longer than the target at the end of the run.
    public let readmissionsOverdueAtEnd: Int
    /// Removals of members that had been running for longer than the target: false removals.
    public let falseRemovals: [String]
    /// Removals of members that were running again, but had restarted within the target
    /// (the removal was decided while they were down).
    public let removalsJustAfterRestart: Int
    /// View changes committed after the warm-up.
    public let commits: Int
    /// Crashes (independent outages and power-cut stops), restarts and power cuts planned.
    public let crashes: Int
    /// Restarts planned.
    public let restarts: Int
    /// Power cuts.
    public let powerCuts: Int
    /// The fraction of node time nodes were planned up after the warm-up.
    public let plannedUptime: Double
    /// Members of the view at the end of the warm-up.
    public let viewAtWarmUp: Int
    /// The view size and running nodes over time.
    public let series: [Sample]
    /// Events handled.
    public let steps: Int
    /// Datagrams sent by all nodes, and bytes.
    public let datagrams: Int
    /// Bytes sent by all nodes (UDP payload).
    public let bytes: Int

    /// The fraction of the majority time with quorum (1 when there was no majority time).
    public var quorumFraction: Double {
        majorityTime.seconds > 0 ? quorateTime.seconds / majorityTime.seconds : 1
    }

    /// Whether every removal and readmission came within the target and none is overdue.
    public var removalsMeetTarget: Bool {
        removalsOverdueAtEnd == 0 && removals.allSatisfy { $0 <= settings.target.seconds }
    }

    /// Whether every readmission came within the target and none is overdue.
    public var readmissionsMeetTarget: Bool {
        readmissionsOverdueAtEnd == 0 && readmissions.allSatisfy { $0 <= settings.target.seconds }
    }

    /// Whether the run met every target: no violation, quorum on the majority side at least
    /// 99.9% of the time, no false removal, removals and readmissions within the target.
    public var metTargets: Bool {
        violation == nil && quorumFraction >= 0.999 && falseRemovals.isEmpty && removalsMeetTarget && readmissionsMeetTarget
    }
}

/// Follows a soak step by step: the newest committed view, who runs, who reports quorum, and
/// the pending removals and readmissions.
struct SoakTracker {
    let settings: SoakSettings
    let ids: [NodeID]
    let start: SimTime
    private(set) var newest: CommittedView?
    private var quorate: [Bool]
    private var quorateCount = 0
    private var runningMembers = 0
    private var lastMark = SimTime.zero
    private var majoritySince: SimTime?
    private var gapSince: SimTime?
    private var majorityTime: Int64 = 0
    private var quorateTime: Int64 = 0
    private var gaps: [SoakOutcome.Gap] = []
    private var crashedAt: [Int: SimTime] = [:]
    private var restartedAt: [Int: SimTime] = [:]
    private var lastStart: [SimTime?]
    private var removals: [Double] = []
    private var backBeforeRemoval = 0
    private var readmissions: [Double] = []
    private var restartedAsMembers = 0
    private var downBeforeReadmission = 0
    private var falseRemovals: [String] = []
    private var removalsJustAfterRestart = 0
    private var commits = 0
    private var viewAtWarmUp = 0
    private var series: [SoakOutcome.Sample] = []

    init(settings: SoakSettings, cloud: SimulatedCloud) {
        self.settings = settings
        ids = (0..<settings.nodeCount).map { cloud.id($0) }
        start = SimTime.zero + settings.warmUp
        quorate = [Bool](repeating: false, count: settings.nodeCount)
        lastStart = [SimTime?](repeating: nil, count: settings.nodeCount)
    }

    private var measuring: Bool { lastMark >= start }
    private var hasMajority: Bool { newest.map { runningMembers >= $0.majority } ?? false }

    /// Adds the time since the last mark to the totals, in the state that held over it.
    mutating func advance(to now: SimTime) {
        if now > start {
            let from = max(lastMark, start)
            let span = now.microseconds - from.microseconds
            if span > 0, hasMajority {
                majorityTime += span
                if quorateCount >= newest!.majority { quorateTime += span }
            }
        }
        lastMark = max(lastMark, now)
    }

    /// Takes in one step of the cloud.
    mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) {
        guard step.node >= 0, step.node < ids.count else { return }
        advance(to: step.time)
        let node = step.node
        if step.kind == .start {
            lastStart[node] = step.time
            // Back before its removal was committed: it restarts as a member.
            if crashedAt.removeValue(forKey: node) != nil { backBeforeRemoval += 1 }
            runningMembers = countRunningMembers(cloud)
            if let newest, !newest.contains(ids[node]) {
                if measuring { restartedAt[node] = step.time }
            } else if measuring {
                restartedAsMembers += 1
            }
            noteMajority(at: step.time)
        }
        if let view = cloud.nodes[node].agent?.quorumView?.view,
           newest == nil || (view.lineage == newest!.lineage && view.epoch > newest!.epoch) {
            install(view, at: step.time, in: cloud)
        }
        updateQuorate(node, in: cloud, at: step.time)
    }

    /// Takes in a crash.
    mutating func crashed(_ node: Int, in cloud: SimulatedCloud) {
        let now = cloud.now
        advance(to: now)
        if let newest, newest.contains(ids[node]) {
            if measuring { crashedAt[node] = now }
        }
        if restartedAt.removeValue(forKey: node) != nil { downBeforeReadmission += 1 }
        runningMembers = countRunningMembers(cloud)
        noteMajority(at: now)
        updateQuorate(node, in: cloud, at: now)
    }

    /// Records one point of the time series.
    mutating func recordSeries(in cloud: SimulatedCloud) {
        if series.isEmpty { viewAtWarmUp = newest?.members.count ?? 0 }
        series.append(SoakOutcome.Sample(
            time: cloud.now, viewSize: newest?.members.count ?? 0, running: cloud.upNodes.count,
            runningMembers: runningMembers, quorate: quorateCount))
    }

    private mutating func install(_ view: CommittedView, at time: SimTime, in cloud: SimulatedCloud) {
        let previous = newest
        newest = view
        if measuring { commits += 1 }
        if let previous, measuring {
            let removed = Set(previous.members).subtracting(view.members)
            for id in removed.sorted() {
                guard let node = ids.firstIndex(of: id) else { continue }
                if let crash = crashedAt.removeValue(forKey: node) {
                    removals.append((time - max(crash, majoritySince ?? time)).seconds)
                } else if cloud.nodes[node].isUp {
                    if let started = lastStart[node], time - started < settings.target {
                        removalsJustAfterRestart += 1
                    } else {
                        falseRemovals.append("node \(node) removed at \(time) in epoch \(view.epoch) while running since \(lastStart[node].map(String.init(describing:)) ?? "the start")")
                    }
                }
                // Otherwise it was down, and crashed before the warm-up ended: not measured.
            }
        }
        for id in view.members {
            guard let node = ids.firstIndex(of: id), let restart = restartedAt.removeValue(forKey: node) else { continue }
            readmissions.append((time - max(restart, majoritySince ?? time)).seconds)
        }
        runningMembers = countRunningMembers(cloud)
        noteMajority(at: time)
        quorateCount = 0
        for node in ids.indices {
            quorate[node] = Self.isQuorate(node, ids[node], view, cloud)
            if quorate[node] { quorateCount += 1 }
        }
        noteGap(at: time)
    }

    private mutating func updateQuorate(_ node: Int, in cloud: SimulatedCloud, at time: SimTime) {
        guard let newest else { return }
        let now = Self.isQuorate(node, ids[node], newest, cloud)
        if now != quorate[node] {
            quorate[node] = now
            quorateCount += now ? 1 : -1
        }
        noteGap(at: time)
    }

    private static func isQuorate(_ node: Int, _ id: NodeID, _ view: CommittedView, _ cloud: SimulatedCloud) -> Bool {
        cloud.nodes[node].isUp && view.contains(id) && cloud.nodes[node].agent?.quorumStatus.hasQuorum == true
    }

    private func countRunningMembers(_ cloud: SimulatedCloud) -> Int {
        guard let newest else { return 0 }
        return ids.indices.filter { cloud.nodes[$0].isUp && newest.contains(ids[$0]) }.count
    }

    private mutating func noteMajority(at time: SimTime) {
        if hasMajority {
            if majoritySince == nil { majoritySince = time }
        } else {
            majoritySince = nil
        }
        noteGap(at: time)
    }

    private mutating func noteGap(at time: SimTime) {
        let inGap = hasMajority && quorateCount < (newest?.majority ?? 0)
        if inGap, gapSince == nil {
            gapSince = time
        } else if !inGap, let since = gapSince {
            gapSince = nil
            let from = max(since, start)
            if time > from { gaps.append(SoakOutcome.Gap(start: from, length: time - from)) }
        }
    }

    func outcome(seed: UInt64, schedule: SoakSchedule, violation: InvariantViolation?, steps: Int, in cloud: SimulatedCloud) -> SoakOutcome {
        let now = cloud.now
        var gaps = gaps
        if let since = gapSince, now > max(since, start) { gaps.append(SoakOutcome.Gap(start: max(since, start), length: now - max(since, start))) }
        let overdueRemovals = crashedAt.values.filter { now - max($0, majoritySince ?? now) > settings.target }.count
        let overdueReadmissions = restartedAt.values.filter { now - max($0, majoritySince ?? now) > settings.target }.count
        return SoakOutcome(
            seed: seed, settings: settings, violation: violation,
            measured: now > start ? now - start : .zero,
            majorityTime: .microseconds(majorityTime), quorateTime: .microseconds(quorateTime),
            gaps: gaps.sorted { ($0.length, $1.start) > ($1.length, $0.start) },
            removals: removals, backBeforeRemoval: backBeforeRemoval, removalsOverdueAtEnd: overdueRemovals,
            readmissions: readmissions, restartedAsMembers: restartedAsMembers,
            downBeforeReadmission: downBeforeReadmission, readmissionsOverdueAtEnd: overdueReadmissions,
            falseRemovals: falseRemovals, removalsJustAfterRestart: removalsJustAfterRestart, commits: commits,
            crashes: schedule.events.filter(\.crash).count, restarts: schedule.events.filter { !$0.crash }.count,
            powerCuts: schedule.powerCuts.count, plannedUptime: schedule.plannedUptime,
            viewAtWarmUp: viewAtWarmUp, series: series, steps: steps,
            datagrams: cloud.datagramsSent, bytes: cloud.bytesSent)
    }
}
