import OverlayCore

/// One fault in a chaos schedule.
public enum ChaosFault: Sendable, Equatable, CustomStringConvertible {
    /// The node's process dies (no leave).
    case crash(Int)
    /// A stopped node starts again from its persisted snapshot.
    case restart(Int)
    /// The node leaves gracefully and stops.
    case leave(Int)
    /// The cloud splits; the labels give each node's side.
    case partition([UInt8])
    /// Partitions end.
    case heal
    /// The loss rate changes.
    case loss(Double)
    /// The attacker strikes.
    case attack(Injection.Attack)

    /// The fault as the sweep prints it (`crash 3`, `partition 0110`).
    public var description: String {
        switch self {
        case .crash(let node): "crash \(node)"
        case .restart(let node): "restart \(node)"
        case .leave(let node): "leave \(node)"
        case .partition(let labels): "partition \(labels.map(String.init).joined())"
        case .heal: "heal"
        case .loss(let rate): "loss \(Int((rate * 100).rounded()))%"
        case .attack(let attack): "attack \(attack.rawValue)"
        }
    }
}

/// A chaos run's whole plan, drawn from its seed: the cloud's size, the network, the clocks,
/// and the timed faults.
public struct ChaosScenario: Sendable {
    /// The seed everything is drawn from.
    public let seed: UInt64
    /// The cloud.
    public let configuration: CloudConfiguration
    /// When the faults start: the cloud first joins in peace. Default 20 s.
    public let faultsStart: SimTime
    /// When the faults end and everything heals.
    public let healAt: SimTime
    /// The faults, by time.
    public let faults: [(time: SimTime, fault: ChaosFault)]
    /// Which stopped nodes restart when the faults end (the others stay down).
    public let restartAtHeal: [Bool]

    /// The attack kinds the attacker draws from.
    public let attacks: [Injection.Attack]

    /// Draws a scenario from `seed`.
    ///
    /// Between 4 and 12 nodes on the radio timings; base loss up to 20%, duplication up to 10%,
    /// reordering up to 30%; clocks up to ±2 s apart and ±500 ppm fast or slow; then, for one
    /// to three minutes, a fault every 3 s on average: attacks (40%), crashes, restarts,
    /// graceful leaves, partitions into two or three sides, heals and loss changes.
    ///
    /// - Parameters:
    ///   - seed: the seed.
    ///   - attacks: the attack kinds to draw from (default ``Injection/standardAttacks``).
    public init(seed: UInt64, attacks: [Injection.Attack] = Injection.standardAttacks) {
        self.seed = seed
        self.attacks = attacks
        var rng = DeterministicRandom.stream(seed, 0xC4A05)
        let count = 4 + rng.below(9)
        var configuration = CloudConfiguration(nodeCount: count)
        configuration.seedCount = 1 + rng.below(2)
        configuration.network.lossRate = rng.chance(0.3) ? 0 : rng.uniform(0, 0.2)
        configuration.network.duplicateRate = rng.chance(0.5) ? 0 : rng.uniform(0, 0.1)
        configuration.network.reorderRate = rng.chance(0.5) ? 0 : rng.uniform(0, 0.3)
        configuration.clockRatePPM = rng.below(501)
        configuration.clockOffsetSpread = .milliseconds(Int64(rng.below(2001)))
        configuration.meshDegree = 3 + rng.uniform(0, 6)
        self.configuration = configuration

        let start = SimTime.seconds(20)
        let end = start + .seconds(Int64(60 + rng.below(121)))
        var faults: [(SimTime, ChaosFault)] = []
        var up = [Bool](repeating: true, count: count)
        var time = start
        while true {
            time = time + .milliseconds(Int64(rng.exponential(mean: 3000)))
            guard time < end else { break }
            let roll = rng.unit()
            let running = up.indices.filter { up[$0] }
            let stopped = up.indices.filter { !up[$0] }
            let fault: ChaosFault
            switch roll {
            case ..<0.40:
                guard !attacks.isEmpty else { continue }
                fault = .attack(attacks[rng.below(attacks.count)])
            case ..<0.52:
                guard let node = running.isEmpty ? nil : running[rng.below(running.count)] else { continue }
                up[node] = false
                fault = .crash(node)
            case ..<0.64:
                guard let node = stopped.isEmpty ? nil : stopped[rng.below(stopped.count)] else { continue }
                up[node] = true
                fault = .restart(node)
            case ..<0.68:
                guard let node = running.isEmpty ? nil : running[rng.below(running.count)] else { continue }
                up[node] = false
                fault = .leave(node)
            case ..<0.78:
                let sides = UInt8(2 + rng.below(2))
                fault = .partition((0..<count).map { _ in UInt8(rng.below(Int(sides))) })
            case ..<0.88:
                fault = .heal
            default:
                fault = .loss(rng.chance(0.3) ? 0 : rng.uniform(0, 0.35))
            }
            faults.append((time, fault))
        }
        self.faultsStart = start
        self.healAt = end
        self.faults = faults
        self.restartAtHeal = (0..<count).map { _ in rng.chance(0.5) }
    }

    /// A one-line summary for the sweep's table.
    public var summary: String {
        let crashes = faults.filter { if case .crash = $0.fault { true } else { false } }.count
        let partitions = faults.filter { if case .partition = $0.fault { true } else { false } }.count
        let attacks = faults.filter { if case .attack = $0.fault { true } else { false } }.count
        return "\(configuration.nodeCount) nodes, loss \(Int((configuration.network.lossRate * 100).rounded()))%, "
            + "\(crashes) crashes, \(partitions) partitions, \(attacks) attacks, faults for \(Int((healAt - faultsStart).seconds)) s"
    }
}

/// One chaos run: the scenario of a seed, with invariants checked after every step while the
/// faults last, then healing and a liveness phase with a deadline (TigerBeetle's VOPR shape).
public struct ChaosRun {
    /// How a run ended.
    public struct Outcome: Sendable {
        /// The seed.
        public let seed: UInt64
        /// The scenario's summary.
        public let summary: String
        /// The first violation, if any.
        public let violation: InvariantViolation?
        /// Time from healing until every liveness goal held, if they did.
        public let convergence: Duration?
        /// The liveness deadline after healing.
        public let deadline: Duration
        /// Events handled.
        public let steps: Int
        /// Attacks injected and checked.
        public let attacks: Int
        /// The trace hash at the end.
        public let trace: TraceHash

        /// Whether every invariant held.
        public var passed: Bool { violation == nil }
    }

    /// The scenario.
    public let scenario: ChaosScenario
    private var invariants: [any Invariant]

    /// Prepares the run of `seed`.
    ///
    /// - Parameters:
    ///   - seed: the seed.
    ///   - attacks: the attack kinds (default ``Injection/standardAttacks``).
    ///   - invariants: what to check (default ``MembershipInvariants/all()`` and
    ///     ``QuorumInvariants/all()``: chaos clouds run the quorum view, as the daemon does).
    public init(
        seed: UInt64, attacks: [Injection.Attack] = Injection.standardAttacks,
        invariants: [any Invariant] = MembershipInvariants.all() + QuorumInvariants.all()
    ) {
        scenario = ChaosScenario(seed: seed, attacks: attacks)
        self.invariants = invariants
    }

    /// The liveness deadline for a healed cloud of `count` nodes: two push-pull intervals and
    /// two reconnect intervals (a member declared failed on the other side learns it and
    /// refutes through one of them, SWIM 4.2), plus the failure detection bound (stopped nodes
    /// must be marked failed everywhere). About 2 minutes 15 seconds on the radio timings for clouds of
    /// up to 32 nodes.
    public static func livenessDeadline(settings: MembershipSettings, count: Int) -> Duration {
        let pushPull = settings.pushPullInterval(memberCount: count).scaled(by: 2)
        let reconnect = settings.reconnectInterval.scaled(by: 2)
        let detection = settings.failureDetectionBound(memberCount: count)
        return .milliseconds(pushPull.milliseconds + reconnect.milliseconds + detection.milliseconds)
    }

    /// Runs the scenario to the end, or to the first violation.
    public mutating func run() -> Outcome {
        let cloud = SimulatedCloud(configuration: scenario.configuration, seed: scenario.seed)
        cloud.capturesTraffic = true
        var adversary = Adversary(cloud: cloud, seed: scenario.seed)
        let count = scenario.configuration.nodeCount
        let deadline = Self.livenessDeadline(settings: scenario.configuration.membership, count: count)
        let baseNetwork = cloud.network
        cloud.startAll()

        func outcome(_ violation: InvariantViolation?, convergence: Duration?) -> Outcome {
            Outcome(
                seed: scenario.seed, summary: scenario.summary, violation: violation, convergence: convergence,
                deadline: deadline, steps: cloud.steps, attacks: adversary.made.values.reduce(0, +), trace: cloud.trace)
        }

        // Safety phase: faults as scheduled, every invariant after every step.
        for (time, fault) in scenario.faults + [(scenario.healAt, .heal)] {
            if let violation = runChecked(cloud, until: time) { return outcome(violation, convergence: nil) }
            switch fault {
            case .crash(let node): cloud.crash(node)
            case .restart(let node): if !cloud.nodes[node].isUp { cloud.scheduleStart(node, at: cloud.now) }
            case .leave(let node):
                let record = cloud.leave(node)
                if let violation = check(record, cloud) { return outcome(violation, convergence: nil) }
            case .partition(let labels): cloud.partition(labels)
            case .heal: cloud.heal()
            case .loss(let rate): cloud.network.lossRate = rate
            case .attack(let attack): adversary.attack(attack, in: cloud)
            }
        }

        // Healing: no partition, the network back to its base quality without loss, some
        // stopped nodes restart.
        var clean = baseNetwork
        clean.lossRate = 0
        cloud.network = clean
        for node in 0..<count where !cloud.nodes[node].isUp && scenario.restartAtHeal[node] {
            cloud.scheduleStart(node, at: cloud.now)
        }
        let healedAt = cloud.now
        let end = healedAt + deadline
        var nextLook = healedAt
        while true {
            if cloud.now >= nextLook {
                if invariants.allSatisfy({ $0.convergenceGap(in: cloud) == nil }) {
                    return outcome(nil, convergence: cloud.now - healedAt)
                }
                nextLook = cloud.now + .milliseconds(100)
            }
            guard let next = cloud.nextEventTime, next <= end else { break }
            guard let record = cloud.step() else { break }
            if let violation = check(record, cloud) { return outcome(violation, convergence: nil) }
        }
        let gap = invariants.lazy.compactMap { invariant in invariant.convergenceGap(in: cloud).map { (invariant.name, $0) } }.first
        let violation = gap.map { InvariantViolation(invariant: $0.0, time: cloud.now, detail: "not converged \(Int(deadline.seconds)) s after healing: \($0.1)") }
        return outcome(violation, convergence: violation == nil ? cloud.now - healedAt : nil)
    }

    private mutating func runChecked(_ cloud: SimulatedCloud, until time: SimTime) -> InvariantViolation? {
        while let next = cloud.nextEventTime, next <= time {
            guard let record = cloud.step() else { break }
            if let violation = check(record, cloud) { return violation }
        }
        cloud.run(until: time)
        return nil
    }

    private mutating func check(_ record: StepRecord, _ cloud: SimulatedCloud) -> InvariantViolation? {
        for index in invariants.indices {
            if let violation = invariants[index].afterStep(record, in: cloud) { return violation }
        }
        return nil
    }
}
