import Foundation
import OverlayCore

/// The strategies of the city comparison (`overlay-sim rimo --scales guifi`).
public enum CityStrategy: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The best of all the city's gateways by its true mean latency over the next window.
    case omniscient
    /// overlayd's ``GatewaySelector`` in ``GatewaySelector/Strategy/collaborative`` mode, with
    /// the horizon, sharing within its cloud.
    case collaborative
    /// RIMO Algorithms 1-3 with the horizon as MaxHOPS.
    case rimo
    /// RIMO Algorithms 1-3 with MaxHOPS the city's largest distance: sampling over all gateways.
    case rimoUnbounded = "rimo-unbounded"
    /// Probe every gateway within the horizon, take the best.
    case bruteForce = "brute-force"
    /// One gateway within the horizon uniformly at random, no probe.
    case random

    /// Whether the strategy keeps to the scenario's horizon (the oracle and `rimo-unbounded` do not).
    public var keepsHorizon: Bool { self != .omniscient && self != .rimoUnbounded }

    /// The strategy of the smaller scales' tables that this one corresponds to.
    var selectionStrategy: SelectionStrategy {
        switch self {
        case .omniscient: .omniscient
        case .collaborative: .collaborative
        case .rimo, .rimoUnbounded: .rimo
        case .bruteForce: .bruteForce
        case .random: .random
        }
    }

    /// The name the command line and the tables use.
    public var description: String { rawValue }
}

/// What one strategy achieved in the city with one seed.
public struct CityResult: Sendable {
    /// The strategy.
    public let strategy: CityStrategy
    /// The MaxHOPS the strategy drew within (the city's largest distance if it has no horizon).
    public let maxHops: Int
    /// The latencies, probes and loads, as at the smaller scales.
    public let result: StrategyResult
    /// Gateways eligible per client (within ``maxHops``), averaged over clients.
    public let meanEligible: Double
    /// Hops to the chosen gateway, averaged over counted choices.
    public let meanChosenHops: Double
    /// The farthest gateway any counted choice went to, in hops.
    public let maxChosenHops: Int
    /// The farthest gateway any counted round probed, in hops (0 if none probed).
    public let maxProbedHops: Int
}

/// Runs the city comparison: one simulation per strategy on the same city and gateways.
///
/// Every strategy runs for all the city's clients (they all load the gateways); the results
/// count the measured clouds' clients (``CityScenario/measureEvery``). In the collaborative
/// run only the measured clouds run overlayd's selector, the others RIMO with the horizon, so
/// at the paper's scale collaborative clouds are judged inside a RIMO city.
///
/// Only `collaborative` drives overlayd's ``GatewaySelector`` (one per client, given the
/// gateways within its horizon, which is what its RIMO Algorithm 1 filter keeps). The paper's
/// baselines are RIMO Algorithms 1-3 written over gateway indices here: the selector's
/// per-gateway bookkeeping (names, hop-table keys) costs microseconds per gateway and round,
/// which 35,000 clients × 400 gateways × 120 rounds cannot afford; the algorithm (hop weights
/// `MaxHOPS + 1 - h`, two weighted draws without replacement besides the previous gateway, the
/// lowest probed latency, ties to the nearer gateway) is the same as ``Rimo``'s.
public enum CityExperiment {
    /// Runs `strategy` on `scenario` with `seed`.
    public static func run(_ scenario: CityScenario, seed: UInt64, strategy: CityStrategy) -> CityResult {
        let map = CityMap(scenario: scenario, seed: seed)
        var run = CityRun(map: map, strategy: strategy, seed: seed)
        return run.execute()
    }
}

/// One strategy's simulation of the city.
struct CityRun {
    enum Event {
        case round(Int)
        case complete(Int)
        case share(Int)
        case expire
    }

    struct Pending {
        /// The collaborative selector's round (`nil` for the strategies written here).
        var round: SelectionRound?
        var samples: [(gateway: Int, latency: Double?)]
        var counted: Bool
    }

    enum Shared {
        case observation(Observation, from: Int)
        case announcement(SelectionAnnouncement, from: Int)
    }

    let map: CityMap
    let scenario: CityScenario
    let strategy: CityStrategy
    let world: GatewayWorld
    let maxHops: Int
    let countFrom: Int64
    let countUntil: Int64
    let end: SimTime
    let ids: [GatewayID]
    var indexOf: [GatewayID: Int] = [:]
    /// Per profile: the gateways within ``maxHops``, and the running sums of their RIMO weights.
    var eligible: [[Int]] = []
    var cumulative: [[Int]] = []
    var selectors: [GatewaySelector] = []
    /// Per client: its selector's index in ``selectors``, or -1 (a client of a cloud that is
    /// not measured runs RIMO with the horizon in the collaborative run).
    var selectorOf: [Int]
    /// Per client: whether its cloud is measured.
    let measured: [Bool]
    var current: [Int?]
    var load: [Int]
    var timeline: [[(Int64, Int)]]
    var loadChanges: [(Int64, Int, Int)] = []
    var decisions: [(Int, Int64, Int?)] = []
    var pending: [Pending?]
    var shares: [Int: Shared] = [:]
    var nextShare = 0
    var queue = EventQueue<Event>()
    var rng: DeterministicRandom
    var probes = 0
    var rounds = 0
    var sharedItems = 0
    var unserved = 0
    var skippedRounds = 0
    var maxProbedHops = 0
    /// The oracle's per-gateway window means (with one more client, and as they are) for
    /// ``oracleStep``.
    var oraclePlus: [Double] = []
    var oracleAsIs: [Double] = []
    var oracleStep = -1

    init(map: CityMap, strategy: CityStrategy, seed: UInt64) {
        self.map = map
        scenario = map.scenario
        self.strategy = strategy
        countFrom = scenario.warmUp.microsecondsValue
        countUntil = countFrom + scenario.duration.microsecondsValue
        end = SimTime(microseconds: countUntil + scenario.window.microsecondsValue)
        world = GatewayWorld(
            count: scenario.gateways, clients: scenario.clients, duration: end - .zero + .seconds(60),
            settings: scenario.world, seed: seed)
        maxHops = strategy.keepsHorizon ? scenario.horizon : map.maxHops
        let width = String(scenario.gateways).count
        ids = (0..<scenario.gateways).map { g in
            let digits = String(g)
            return GatewayID("gw" + String(repeating: "0", count: width - digits.count) + digits)
        }
        for (g, id) in ids.enumerated() { indexOf[id] = g }
        current = [Int?](repeating: nil, count: scenario.clients)
        load = [Int](repeating: 0, count: scenario.gateways)
        timeline = [[(Int64, Int)]](repeating: [(0, -1)], count: scenario.clients)
        pending = [Pending?](repeating: nil, count: scenario.clients)
        selectorOf = [Int](repeating: -1, count: scenario.clients)
        measured = map.cloudOf.map { map.scenario.isMeasured(cloud: $0) }
        rng = DeterministicRandom.stream(seed, 0xC175 &+ UInt64(CityStrategy.allCases.firstIndex(of: strategy)!))
        var representative = [Int](repeating: -1, count: map.profiles)
        for client in 0..<scenario.clients where representative[map.profileOf[client]] < 0 {
            representative[map.profileOf[client]] = client
        }
        for profile in 0..<map.profiles {
            let client = representative[profile]
            let within = client < 0 ? [] : map.gateways(of: client, within: maxHops)
            eligible.append(within)
            var sum = 0
            // RIMO Algorithm 1, line 11: a gateway h hops away weighs MaxHOPS + 1 - h.
            cumulative.append(within.map { g in
                sum += max(1, maxHops + 1 - map.hops[client][g])
                return sum
            })
        }
        if strategy == .collaborative {
            var settings = scenario.selector
            settings.maxHops = maxHops
            selectors.reserveCapacity(scenario.clients)
            for client in 0..<scenario.clients where measured[client] {
                selectorOf[client] = selectors.count
                var selector = GatewaySelector(
                    node: SelectionRun.nodeID(client), strategy: .collaborative, settings: settings,
                    seed: KeyedTag.mix(seed ^ UInt64(client) &* 0x9E37_79B9_7F4A_7C15))
                selector.cloudSize = scenario.cloudSize
                selector.updateGateways(eligible[map.profileOf[client]].map { g in
                    Gateway(
                        id: ids[g], proxy: ProxyEndpoint(host: "10.200.\(g / 250).\(g % 250 + 1)", port: 3128),
                        capacity: Int(world.capacity[g].rounded()), hops: map.hops[client][g])
                })
                selectors.append(selector)
            }
        }
    }

    func instant(_ time: Int64) -> Instant { Instant(milliseconds: NodeClock.epochMilliseconds + time / 1000) }

    mutating func execute() -> CityResult {
        let period = scenario.roundInterval.microsecondsValue
        let jitter = max(1, Int(scenario.roundJitter.microsecondsValue))
        var periodStart: Int64 = 0
        var periods = 0
        if strategy == .collaborative { queue.push(.expire, at: 60_000_000) }
        while periodStart < countUntil || !queue.isEmpty {
            if periodStart < countUntil, queue.nextTime.map({ $0 >= periodStart }) ?? true {
                if periodStart >= countFrom { periods += 1 }
                for client in 0..<scenario.clients {
                    queue.push(.round(client), at: periodStart + Int64(rng.below(jitter)))
                }
                periodStart += period
                continue
            }
            guard let entry = queue.pop() else { break }
            let time = entry.time
            switch entry.payload {
            case .round(let client): beginRound(client, at: time)
            case .complete(let client): completeRound(client, at: time)
            case .share(let index): deliverShare(index, at: time)
            case .expire:
                for index in selectors.indices { selectors[index].expire(now: instant(time)) }
                if time + 60_000_000 < end.microseconds { queue.push(.expire, at: time + 60_000_000) }
            }
        }
        return summarize(periods: periods)
    }

    mutating func beginRound(_ client: Int, at time: Int64) {
        let counted = measured[client] && time >= countFrom && time < countUntil
        if pending[client] != nil {
            if counted { skippedRounds += 1 }
            return
        }
        if counted { rounds += 1 }
        let profile = map.profileOf[client]
        var probed: [Int] = []
        var selectorRound: SelectionRound?
        switch strategy {
        case .omniscient:
            decide(client, gateway: oracleChoice(client, at: time), at: time, counted: counted)
            return
        case .random:
            let pool = eligible[profile]
            decide(client, gateway: pool.isEmpty ? nil : pool[rng.below(pool.count)], at: time, counted: counted)
            return
        case .bruteForce:
            probed = eligible[profile]
        case .rimo, .rimoUnbounded:
            probed = rimoCandidates(profile: profile, previous: current[client])
        case .collaborative:
            let index = selectorOf[client]
            if index < 0 {
                probed = rimoCandidates(profile: profile, previous: current[client])
            } else {
                let reason: ReselectionReason = selectors[index].lastDecision == nil ? .start : .periodic
                let round = selectors[index].beginRound(now: instant(time), reason: reason)
                selectorRound = round
                probed = round.probes.compactMap { indexOf[$0.id] }
            }
        }
        var samples: [(gateway: Int, latency: Double?)] = []
        samples.reserveCapacity(probed.count)
        var longest = 0.0
        for g in probed {
            let sample = world.probe(
                g, at: SimTime(microseconds: time), clients: Double(load[g]), hops: map.hops[client][g], rng: &rng)
            samples.append((g, sample))
            longest = max(longest, sample ?? scenario.world.probeTimeout.seconds)
            if counted { maxProbedHops = max(maxProbedHops, map.hops[client][g]) }
        }
        if counted { probes += samples.count }
        pending[client] = Pending(round: selectorRound, samples: samples, counted: counted)
        if samples.isEmpty {
            completeRound(client, at: time)
        } else {
            queue.push(.complete(client), at: time + Int64(longest * 1_000_000))
        }
    }

    /// RIMO Algorithm 2, lines 2-3: two gateways drawn by weight without replacement among the
    /// eligible ones other than the previous gateway, then the previous one if still eligible.
    /// A draw that hits an excluded gateway is redrawn, which is the same law as drawing among
    /// those left (``Rimo/weightedRandomSet(_:count:excluding:using:)``).
    mutating func rimoCandidates(profile: Int, previous: Int?) -> [Int] {
        let pool = eligible[profile]
        let sums = cumulative[profile]
        guard let total = sums.last else { return [] }
        let previousEligible = previous.map { pool.contains($0) } ?? false
        let wanted = min(scenario.selector.candidateCount, pool.count - (previousEligible ? 1 : 0))
        var drawn: [Int] = []
        while drawn.count < wanted {
            let ticket = rng.below(total)
            var low = 0, high = sums.count - 1
            while low < high {
                let middle = (low + high) / 2
                if sums[middle] > ticket { high = middle } else { low = middle + 1 }
            }
            let g = pool[low]
            if g != previous, !drawn.contains(g) { drawn.append(g) }
        }
        if previousEligible, let previous { drawn.append(previous) }
        return drawn
    }

    mutating func completeRound(_ client: Int, at time: Int64) {
        guard let round = pending[client] else { return }
        pending[client] = nil
        let index = selectorOf[client]
        guard index >= 0, let selectorRound = round.round else {
            // RIMO Algorithm 3: the lowest probed latency (to the millisecond), ties to the
            // nearer gateway, then the smaller index (the name order).
            let best = round.samples.compactMap { sample in sample.latency.map { (sample.gateway, $0) } }.min { lhs, rhs in
                (wholeMilliseconds(lhs.1), map.hops[client][lhs.0], lhs.0) < (wholeMilliseconds(rhs.1), map.hops[client][rhs.0], rhs.0)
            }
            decide(client, gateway: best?.0, at: time, counted: round.counted)
            return
        }
        let now = instant(time)
        var observations: [Observation] = []
        for sample in round.samples {
            let observation = selectors[index].makeObservation(
                of: ids[sample.gateway], contentLatency: sample.latency.map { .milliseconds(Int64(($0 * 1000).rounded())) },
                failure: sample.latency == nil ? .timeout : nil, now: now)
            selectors[index].receive(observation, now: now)
            observations.append(observation)
        }
        let decision = selectors[index].completeRound(selectorRound, now: now)
        let counted = round.counted
        for observation in observations { share(.observation(observation, from: client), at: time, counted: counted) }
        if let announcement = decision.announcement { share(.announcement(announcement, from: client), at: time, counted: counted) }
        decide(client, gateway: decision.chosen.flatMap { indexOf[$0] }, at: time, counted: round.counted)
    }

    mutating func decide(_ client: Int, gateway: Int?, at time: Int64, counted: Bool) {
        if counted {
            decisions.append((client, time, gateway))
            if gateway == nil { unserved += 1 }
        }
        guard gateway != current[client] else { return }
        if let old = current[client] {
            load[old] -= 1
            loadChanges.append((time, old, -1))
            refreshOracle(old)
        }
        if let new = gateway {
            load[new] += 1
            loadChanges.append((time, new, 1))
            refreshOracle(new)
        }
        current[client] = gateway
        timeline[client].append((time, gateway ?? -1))
    }

    mutating func share(_ item: Shared, at time: Int64, counted: Bool) {
        if counted { sharedItems += 1 }
        shares[nextShare] = item
        queue.push(.share(nextShare), at: time + scenario.sharingDelay.microsecondsValue)
        nextShare += 1
    }

    /// Delivers a shared item to the rest of its sender's cloud (clients are numbered cloud by cloud).
    mutating func deliverShare(_ index: Int, at time: Int64) {
        guard let item = shares.removeValue(forKey: index) else { return }
        let now = instant(time)
        switch item {
        case .observation(let observation, let from):
            let first = map.cloudOf[from] * scenario.cloudSize
            for client in first..<(first + scenario.cloudSize) where client != from {
                selectors[selectorOf[client]].receive(observation, now: now)
            }
        case .announcement(let announcement, let from):
            let first = map.cloudOf[from] * scenario.cloudSize
            for client in first..<(first + scenario.cloudSize) where client != from {
                selectors[selectorOf[client]].receive(announcement)
            }
        }
    }

    // MARK: The oracle

    /// The true mean latency of `gateway` over the window from step `start`, with `clients`.
    func windowMean(_ gateway: Int, from start: Int, clients: Double) -> Double {
        let steps = max(1, Int(scenario.window.microsecondsValue / world.step))
        var sum = 0.0
        for k in start..<min(world.stepCount, start + steps) { sum += world.gatewayLatency(gateway, step: k, clients: clients) }
        return sum / Double(steps)
    }

    mutating func refreshOracle(_ gateway: Int) {
        guard strategy == .omniscient, oracleStep >= 0 else { return }
        oraclePlus[gateway] = windowMean(gateway, from: oracleStep, clients: Double(load[gateway] + 1))
        oracleAsIs[gateway] = windowMean(gateway, from: oracleStep, clients: Double(load[gateway]))
    }

    /// The gateway of the whole city with the lowest true mean latency over the next window,
    /// with the loads as they are now plus this client (as ``SelectionRun``'s oracle). The
    /// per-gateway means are cached per process step and refreshed when a gateway's load moves.
    mutating func oracleChoice(_ client: Int, at time: Int64) -> Int? {
        let step = world.stepIndex(SimTime(microseconds: time))
        if step != oracleStep {
            oracleStep = step
            oraclePlus = (0..<scenario.gateways).map { windowMean($0, from: step, clients: Double(load[$0] + 1)) }
            oracleAsIs = (0..<scenario.gateways).map { windowMean($0, from: step, clients: Double(load[$0])) }
        }
        let hops = map.hops[client]
        let perHop = world.settings.latencyPerHop
        var best: (Int, Double)?
        for g in 0..<scenario.gateways {
            let value = (current[client] == g ? oracleAsIs[g] : oraclePlus[g]) + Double(hops[g]) * perHop
            if best == nil || value < best!.1 { best = (g, value) }
        }
        return best?.0
    }

    // MARK: Results

    func summarize(periods: Int) -> CityResult {
        var evaluation = SelectionScenario(
            name: scenario.name, clients: scenario.clients, gateways: scenario.gateways, duration: scenario.duration)
        evaluation.warmUp = scenario.warmUp
        evaluation.window = scenario.window
        let setting = SelectionExperiment.Setting(
            scenario: evaluation, world: world, hops: map.hops, maxHops: map.maxHops, end: end)
        let index = OmniscienceIndex(setting: setting, loadChanges: loadChanges)
        var latencies: [Double] = [], extras: [Double] = []
        latencies.reserveCapacity(decisions.count)
        extras.reserveCapacity(decisions.count)
        var values = [Double](repeating: 0, count: scenario.gateways)
        var hopSum = 0, hopCount = 0, hopMax = 0
        for (client, time, gateway) in decisions {
            guard let gateway else { continue }
            index.windowMeans(client: client, timeline: timeline[client], at: time, into: &values)
            let chosen = values[gateway]
            latencies.append(chosen)
            extras.append(max(0, chosen - (values.min() ?? chosen)))
            let hops = map.hops[client][gateway]
            hopSum += hops
            hopCount += 1
            hopMax = max(hopMax, hops)
        }
        let (ratio, utilisation, profile) = index.loadStatistics(
            from: SimTime(microseconds: countFrom), until: SimTime(microseconds: countUntil))
        let result = StrategyResult(
            strategy: strategy.selectionStrategy, latencies: latencies.sorted(), extras: extras.sorted(), rounds: rounds,
            periods: periods, probes: probes, sharedItems: sharedItems, unserved: unserved, skipped: skippedRounds,
            busiestOverMean: ratio, peakUtilisation: utilisation, loadProfile: profile)
        let measuredClients = measured.filter { $0 }.count
        let eligibleSum = zip(map.profileOf, measured).reduce(0) { $0 + ($1.1 ? eligible[$1.0].count : 0) }
        return CityResult(
            strategy: strategy, maxHops: strategy == .omniscient ? map.maxHops : maxHops, result: result,
            meanEligible: strategy == .omniscient ? Double(scenario.gateways) : Double(eligibleSum) / Double(max(1, measuredClients)),
            meanChosenHops: Double(hopSum) / Double(max(1, hopCount)), maxChosenHops: hopMax, maxProbedHops: maxProbedHops)
    }
}

/// A latency in seconds as whole milliseconds, the resolution RIMO Algorithm 3 compares at
/// (``Rimo/best(_:)`` compares `Duration` milliseconds).
@inline(__always)
private func wholeMilliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

extension SelectionExperiment.Setting {
    /// A setting for ``OmniscienceIndex`` from a city: its hops and gateways, no mesh nodes.
    init(scenario: SelectionScenario, world: GatewayWorld, hops: [[Int]], maxHops: Int, end: SimTime) {
        self.scenario = scenario
        self.world = world
        clientNodes = []
        gatewayNodes = []
        self.hops = hops
        self.maxHops = maxHops
        self.end = end
    }
}
