import Foundation
import OverlayCore

/// The strategies `overlay-sim rimo` compares: the selector's five (the real
/// ``GatewaySelector``) and the omniscient oracle of the RIMO paper (section 3.1).
public enum SelectionStrategy: String, CaseIterable, Sendable, CustomStringConvertible {
    /// The best gateway by its true mean latency over the next window, as if known in advance.
    case omniscient
    /// ``GatewaySelector/Strategy/bruteForce``: probe every gateway, take the best.
    case bruteForce = "brute-force"
    /// ``GatewaySelector/Strategy/collaborative``: RIMO's draw judged on the cloud's shared measurements.
    case collaborative
    /// ``GatewaySelector/Strategy/rimo``: RIMO Algorithms 1-3.
    case rimo
    /// ``GatewaySelector/Strategy/powerOfTwo``: two uniform candidates, probe both.
    case powerOfTwo = "power-of-two"
    /// ``GatewaySelector/Strategy/random``: one uniform choice, no probe.
    case random

    /// The selector's strategy, or `nil` for the oracle.
    public var selectorStrategy: GatewaySelector.Strategy? {
        switch self {
        case .omniscient: nil
        case .bruteForce: .bruteForce
        case .collaborative: .collaborative
        case .rimo: .rimo
        case .powerOfTwo: .powerOfTwo
        case .random: .random
        }
    }

    /// The name the command line and the tables use.
    public var description: String { rawValue }
}

/// The setting of one comparison: how many clients and gateways, on what mesh, for how long.
public struct SelectionScenario: Sendable {
    /// A short name for file names and tables (`paper`, `200x20`).
    public var name: String
    /// Nodes that select a gateway.
    public var clients: Int
    /// Gateways, placed at the edge of the mesh.
    public var gateways: Int
    /// Mesh nodes that are neither (routers on rooftops). The paper's 5 clients and 12
    /// gateways sat in a city-wide mesh; 43 relays give hop counts of 1 to about 8.
    public var relays: Int = 0
    /// The time counted, after the warm-up.
    public var duration: Duration
    /// Time before counting starts: shared measurements accumulate, load settles. Default 10 min.
    public var warmUp: Duration = .seconds(600)
    /// Time between selection rounds of each client. Default 5 s, the paper's (RIMO 3.1).
    public var roundInterval: Duration = .seconds(5)
    /// Each client starts its round at a uniform offset within this much of the period start,
    /// as clients on cron-like timers do. Default 1 s: the rounds of one period overlap, so
    /// clients decide on measurements that do not yet show each other's moves.
    public var roundJitter: Duration = .seconds(1)
    /// The omniscience window: a choice is judged by the mean content latency over this long
    /// from the moment of selection. Default 5 min, the paper's (RIMO 3.1).
    public var window: Duration = .seconds(300)
    /// The simulated gateways.
    public var world = GatewayWorldSettings()
    /// Selector settings; ``SelectorSettings/maxHops`` is raised to the mesh's largest
    /// client-gateway distance (the paper's MaxHOPS "of the network"). Default ``SelectorSettings/standard``.
    public var selector = SelectorSettings.standard
    /// Mean radio neighbours of the mesh. Default 6.
    public var meshDegree: Double = 6

    /// Creates a scenario.
    public init(name: String, clients: Int, gateways: Int, relays: Int = 0, duration: Duration) {
        self.name = name
        self.clients = clients
        self.gateways = gateways
        self.relays = relays
        self.duration = duration
    }

    /// The paper's setting: 5 clients, 12 gateways (RIMO 3.1), 4 hours counted.
    public static let paper = SelectionScenario(name: "paper", clients: 5, gateways: 12, relays: 43, duration: .seconds(4 * 3600))
    /// A neighbourhood cloud at the top of the design's range: 200 nodes, 20 gateways, 1 hour.
    public static let medium = SelectionScenario(name: "200x20", clients: 200, gateways: 20, duration: .seconds(3600))
    /// A large cloud: 1,000 nodes, 40 gateways, 15 minutes (the selector's per-round cost makes
    /// this scale slow: see `Docs/results.md`).
    public static let large = SelectionScenario(name: "1000x40", clients: 1000, gateways: 40, duration: .seconds(900))

    /// The delay before a shared item (an observation, a selection announcement) reaches the
    /// other clients: `ceil(log2(N + 1))` gossip intervals of 200 ms, the dissemination time
    /// that `overlay-sim scale` measures (within `2·log2 N`).
    public var sharingDelay: Duration {
        .milliseconds(200 * Int64(ceil(log2(Double(clients + 1)))))
    }
}

/// What one strategy achieved in one scenario and seed.
public struct StrategyResult: Sendable {
    /// The strategy.
    public let strategy: SelectionStrategy
    /// The content latency of every counted choice: the chosen gateway's true mean over the
    /// window, seen from the client (the paper's Omniscience metric applied to the choice), in
    /// seconds, sorted.
    public let latencies: [Double]
    /// Each counted choice's latency minus the best gateway's over the same window, sorted.
    public let extras: [Double]
    /// Client rounds counted.
    public let rounds: Int
    /// Round periods counted (each client runs one round per period).
    public let periods: Int
    /// Probes made in counted rounds.
    public let probes: Int
    /// Items shared by gossip in counted time (observations and selection announcements).
    public let sharedItems: Int
    /// Rounds that ended without a gateway.
    public let unserved: Int
    /// Rounds skipped because the client's previous round was still probing.
    public let skipped: Int
    /// The busiest gateway's clients over the mean clients per gateway, averaged over time.
    public let busiestOverMean: Double
    /// The highest utilisation (background plus clients over capacity) of any gateway,
    /// averaged over time.
    public let peakUtilisation: Double
    /// Time-averaged clients per gateway, sorted from the busiest (the paper's Figure 5).
    public let loadProfile: [Double]

    /// The `q`-quantile of ``latencies``.
    public func latency(_ q: Double) -> Double { Statistics.percentile(latencies, q) }
    /// The `q`-quantile of ``extras``.
    public func extra(_ q: Double) -> Double { Statistics.percentile(extras, q) }
    /// Probes per client per round.
    public var probesPerNodePerRound: Double { rounds > 0 ? Double(probes) / Double(rounds) : 0 }
    /// Probe messages per round period, the whole cloud together (the paper's Table 1).
    public var messagesPerRound: Double { periods > 0 ? Double(probes) / Double(periods) : 0 }
    /// Shared items per round period, the whole cloud together.
    public var sharedPerRound: Double { periods > 0 ? Double(sharedItems) / Double(periods) : 0 }
}

/// Runs the comparison: one simulation per strategy on the same mesh and gateways.
public enum SelectionExperiment {
    /// Runs every strategy of `strategies` on `scenario` with `seed`.
    public static func run(
        _ scenario: SelectionScenario, seed: UInt64, strategies: [SelectionStrategy] = SelectionStrategy.allCases
    ) -> [StrategyResult] {
        let setting = Setting(scenario: scenario, seed: seed)
        return strategies.map { strategy in
            var run = SelectionRun(setting: setting, strategy: strategy, seed: seed)
            return run.execute()
        }
    }

    /// The selector's own explanation of every decision one client made in one strategy's run
    /// (`overlay-sim rimo --explain N`): what it measured, what it shared, why it chose.
    public static func explain(
        _ scenario: SelectionScenario, seed: UInt64, strategy: SelectionStrategy, client: Int
    ) -> [String] {
        var run = SelectionRun(setting: Setting(scenario: scenario, seed: seed), strategy: strategy, seed: seed)
        run.explainClient = client
        _ = run.execute()
        return run.explanations
    }

    /// The mesh, the gateways and the clients' distances: shared by every strategy of a seed
    /// (common random numbers make the comparison sharper).
    struct Setting {
        let scenario: SelectionScenario
        let world: GatewayWorld
        let clientNodes: [Int]
        let gatewayNodes: [Int]
        /// hops[c][g]
        let hops: [[Int]]
        let maxHops: Int
        let end: SimTime

        init(scenario: SelectionScenario, seed: UInt64) {
            self.scenario = scenario
            let total = scenario.clients + scenario.gateways + scenario.relays
            let mesh = MeshTopology(count: total, degree: scenario.meshDegree, seed: seed ^ 0x6E5)
            let edge = mesh.edgeNodes(scenario.gateways)
            let edgeSet = Set(edge)
            var others = (0..<total).filter { !edgeSet.contains($0) }
            var rng = DeterministicRandom.stream(seed, 0xC11E)
            others.shuffle(using: &rng)
            let chosen = Array(others.prefix(scenario.clients)).sorted()
            let distances = chosen.map { client in edge.map { max(1, mesh.hops(from: client, to: $0)) } }
            gatewayNodes = edge
            clientNodes = chosen
            hops = distances
            maxHops = distances.flatMap { $0 }.max() ?? 1
            end = SimTime.zero + scenario.warmUp + scenario.duration + scenario.window
            world = GatewayWorld(
                count: scenario.gateways, clients: scenario.clients, duration: end - .zero + .seconds(60),
                settings: scenario.world, seed: seed)
        }
    }
}

/// One strategy's simulation.
struct SelectionRun {
    enum Event {
        case round(Int)
        case complete(Int)
        case share(Int)
        case expire
    }

    struct Pending {
        var round: SelectionRound
        var samples: [(gateway: Int, latency: Double?)]
        var counted: Bool
    }

    enum Shared {
        case observation(Observation, from: Int)
        case announcement(SelectionAnnouncement, from: Int)
    }

    let setting: SelectionExperiment.Setting
    let strategy: SelectionStrategy
    let ids: [GatewayID]
    let countFrom: SimTime
    let countUntil: SimTime
    var selectors: [GatewaySelector] = []
    var current: [Int?]
    var load: [Int]
    /// Per client: (time, gateway or -1) in time order.
    var timeline: [[(Int64, Int)]]
    /// Load changes (time, gateway, delta) in time order.
    var loadChanges: [(Int64, Int, Int)] = []
    /// Counted decisions (client, time, gateway).
    var decisions: [(Int, Int64, Int?)] = []
    var pending: [Pending?]
    var shares: [Shared] = []
    var queue = EventQueue<Event>()
    var rng: DeterministicRandom
    var probes = 0
    var rounds = 0
    var sharedItems = 0
    var unserved = 0
    var skippedRounds = 0
    var indexOf: [GatewayID: Int] = [:]
    /// The client whose decisions are explained, or -1.
    var explainClient = -1
    /// The selector's explanation of each of that client's decisions.
    var explanations: [String] = []

    init(setting: SelectionExperiment.Setting, strategy: SelectionStrategy, seed: UInt64) {
        self.setting = setting
        self.strategy = strategy
        let scenario = setting.scenario
        let width = String(scenario.gateways).count
        ids = (0..<scenario.gateways).map { g in
            let digits = String(g)
            return GatewayID("gw" + String(repeating: "0", count: width - digits.count) + digits)
        }
        for (g, id) in ids.enumerated() { indexOf[id] = g }
        countFrom = SimTime.zero + scenario.warmUp
        countUntil = countFrom + scenario.duration
        current = [Int?](repeating: nil, count: scenario.clients)
        load = [Int](repeating: 0, count: scenario.gateways)
        timeline = [[(Int64, Int)]](repeating: [(0, -1)], count: scenario.clients)
        pending = [Pending?](repeating: nil, count: scenario.clients)
        rng = DeterministicRandom.stream(seed, 0x5E1 &+ UInt64(SelectionStrategy.allCases.firstIndex(of: strategy)!))
        if let selectorStrategy = strategy.selectorStrategy {
            var settings = scenario.selector
            settings.maxHops = max(settings.maxHops, setting.maxHops)
            for client in 0..<scenario.clients {
                let node = SimIdentities.endpoint(setting.clientNodes[client])
                var selector = GatewaySelector(
                    node: Self.nodeID(client), strategy: selectorStrategy, settings: settings,
                    seed: KeyedTag.mix(seed ^ UInt64(client) &* 0x9E37_79B9_7F4A_7C15))
                selector.cloudSize = scenario.clients
                selector.updateGateways((0..<scenario.gateways).map { g in
                    Gateway(
                        id: ids[g], proxy: ProxyEndpoint(host: "10.200.\(g / 250).\(g % 250 + 1)", port: 3128),
                        capacity: Int(setting.world.capacity[g].rounded()), hops: setting.hops[client][g])
                })
                _ = node
                selectors.append(selector)
            }
        }
    }

    /// A stable node ID per client (the selector only uses it as a name).
    static func nodeID(_ client: Int) -> NodeID {
        var bytes = [UInt8](repeating: 0, count: 32)
        var value = KeyedTag.mix(UInt64(client) &+ 0xC1)
        for index in 0..<32 {
            if index % 8 == 0 { value = KeyedTag.mix(value &+ UInt64(index)) }
            bytes[index] = UInt8(truncatingIfNeeded: value >> UInt64((index % 8) * 8))
        }
        return NodeID(bytes: bytes)!
    }

    func instant(_ time: Int64) -> Instant { Instant(milliseconds: NodeClock.epochMilliseconds + time / 1000) }

    mutating func execute() -> StrategyResult {
        let scenario = setting.scenario
        let period = scenario.roundInterval.microsecondsValue
        let jitter = max(1, Int(scenario.roundJitter.microsecondsValue))
        var periodStart: Int64 = 0
        let lastRoundStart = countUntil.microseconds
        // Rounds of each period are scheduled when the period begins.
        var periods = 0
        queue.push(.expire, at: 60_000_000)
        while periodStart < lastRoundStart || !queue.isEmpty {
            if periodStart < lastRoundStart, queue.nextTime.map({ $0 >= periodStart }) ?? true {
                if periodStart >= countFrom.microseconds { periods += 1 }
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
                if time + 60_000_000 < setting.end.microseconds { queue.push(.expire, at: time + 60_000_000) }
            }
        }
        return summarize(periods: periods)
    }

    mutating func beginRound(_ client: Int, at time: Int64) {
        let counted = time >= countFrom.microseconds && time < countUntil.microseconds
        // A client whose probes from the last period have not all answered (a probe may take
        // up to the 5 s timeout) skips this period's round, as a prober that is still busy would.
        if pending[client] != nil {
            if counted { skippedRounds += 1 }
            return
        }
        if counted { rounds += 1 }
        if strategy == .omniscient {
            let choice = oracleChoice(client, at: time)
            decide(client, gateway: choice, at: time, counted: counted)
            return
        }
        let reason: ReselectionReason = selectors[client].lastDecision == nil ? .start : .periodic
        let round = selectors[client].beginRound(now: instant(time), reason: reason)
        var samples: [(gateway: Int, latency: Double?)] = []
        var longest = 0.0
        for gateway in round.probes {
            guard let g = indexOf[gateway.id] else { continue }
            let sample = setting.world.probe(
                g, at: SimTime(microseconds: time), clients: Double(load[g]), hops: setting.hops[client][g], rng: &rng)
            samples.append((g, sample))
            longest = max(longest, sample ?? setting.scenario.world.probeTimeout.seconds)
        }
        if counted { probes += samples.count }
        pending[client] = Pending(round: round, samples: samples, counted: counted)
        if samples.isEmpty {
            completeRound(client, at: time)
        } else {
            queue.push(.complete(client), at: time + Int64(longest * 1_000_000))
        }
    }

    mutating func completeRound(_ client: Int, at time: Int64) {
        guard let pendingRound = pending[client] else { return }
        pending[client] = nil
        let now = instant(time)
        var observations: [Observation] = []
        for sample in pendingRound.samples {
            let observation = selectors[client].makeObservation(
                of: ids[sample.gateway], contentLatency: sample.latency.map { .milliseconds(Int64(($0 * 1000).rounded())) },
                failure: sample.latency == nil ? .timeout : nil, now: now)
            selectors[client].receive(observation, now: now)
            observations.append(observation)
        }
        let decision = selectors[client].completeRound(pendingRound.round, now: now)
        let chosen = decision.chosen.flatMap { indexOf[$0] }
        if explainClient == client { explanations.append("t=\(Format.fixed(Double(time) / 1e6, 3)) s: \(decision.explanation) [\(decision.candidates.map(\.description).joined(separator: "; "))]") }
        if strategy == .collaborative {
            for observation in observations { share(.observation(observation, from: client), at: time) }
            if let announcement = decision.announcement { share(.announcement(announcement, from: client), at: time) }
        }
        decide(client, gateway: chosen, at: time, counted: pendingRound.counted)
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
        }
        if let new = gateway {
            load[new] += 1
            loadChanges.append((time, new, 1))
        }
        current[client] = gateway
        timeline[client].append((time, gateway ?? -1))
    }

    mutating func share(_ item: Shared, at time: Int64) {
        if time >= countFrom.microseconds && time < countUntil.microseconds { sharedItems += 1 }
        shares.append(item)
        queue.push(.share(shares.count - 1), at: time + setting.scenario.sharingDelay.microsecondsValue)
    }

    mutating func deliverShare(_ index: Int, at time: Int64) {
        let now = instant(time)
        switch shares[index] {
        case .observation(let observation, let from):
            for client in selectors.indices where client != from { selectors[client].receive(observation, now: now) }
        case .announcement(let announcement, let from):
            for client in selectors.indices where client != from { selectors[client].receive(announcement) }
        }
    }

    /// The oracle: the gateway with the lowest true mean latency over the next window, with
    /// the loads as they are now (plus this client), knowing the drift and background ahead.
    func oracleChoice(_ client: Int, at time: Int64) -> Int? {
        let world = setting.world
        let start = world.stepIndex(SimTime(microseconds: time))
        let steps = max(1, Int(setting.scenario.window.microsecondsValue / world.step))
        var best: (Int, Double)?
        for g in 0..<setting.scenario.gateways {
            let clients = Double(load[g] - (current[client] == g ? 1 : 0) + 1)
            var sum = 0.0
            for k in start..<min(world.stepCount, start + steps) { sum += world.gatewayLatency(g, step: k, clients: clients) }
            let value = sum / Double(steps) + Double(setting.hops[client][g]) * world.settings.latencyPerHop
            if best == nil || value < best!.1 { best = (g, value) }
        }
        return best?.0
    }

    func summarize(periods: Int) -> StrategyResult {
        let index = OmniscienceIndex(setting: setting, loadChanges: loadChanges)
        var latencies: [Double] = []
        var extras: [Double] = []
        latencies.reserveCapacity(decisions.count)
        extras.reserveCapacity(decisions.count)
        var values = [Double](repeating: 0, count: setting.scenario.gateways)
        for (client, time, gateway) in decisions {
            guard let gateway else { continue }
            index.windowMeans(client: client, timeline: timeline[client], at: time, into: &values)
            let chosen = values[gateway]
            latencies.append(chosen)
            extras.append(max(0, chosen - (values.min() ?? chosen)))
        }
        let (ratio, utilisation, profile) = index.loadStatistics(from: countFrom, until: countUntil)
        return StrategyResult(
            strategy: strategy, latencies: latencies.sorted(), extras: extras.sorted(), rounds: rounds, periods: periods,
            probes: probes, sharedItems: sharedItems, unserved: unserved, skipped: skippedRounds, busiestOverMean: ratio,
            peakUtilisation: utilisation, loadProfile: profile)
    }
}

/// The paper's Omniscience metric, after the run: the mean true content latency of each
/// gateway over the window that follows a moment, as one client would see it if it used that
/// gateway for the whole window while every other client did what it actually did.
///
/// Time is cut into 1-second slots; per gateway, prefix sums of the latency with the load as
/// it was (`A`) and with one more client (`P`) give any window's mean in constant time, and the
/// client's own intervals on a gateway swap `P` for `A` there (it was already counted).
struct OmniscienceIndex {
    let setting: SelectionExperiment.Setting
    let slot: Int64 = 1_000_000
    let slots: Int
    let windowSlots: Int
    /// Per gateway, prefix sums over slots (count slots + 1).
    var sumPlus: [[Double]] = []
    var sumDifference: [[Double]] = []
    /// loads[g][k]: clients on g in slot k.
    var loads: [[Int]] = []

    init(setting: SelectionExperiment.Setting, loadChanges: [(Int64, Int, Int)]) {
        self.setting = setting
        let world = setting.world
        slots = Int(setting.end.microseconds / slot) + 1
        windowSlots = Int(setting.scenario.window.microsecondsValue / slot)
        let gateways = setting.scenario.gateways
        var loads = [[Int]](repeating: [Int](repeating: 0, count: slots), count: gateways)
        var level = [Int](repeating: 0, count: gateways)
        var cursor = 0
        for k in 0..<slots {
            let middle = Int64(k) * slot + slot / 2
            while cursor < loadChanges.count, loadChanges[cursor].0 <= middle {
                level[loadChanges[cursor].1] += loadChanges[cursor].2
                cursor += 1
            }
            for g in 0..<gateways { loads[g][k] = level[g] }
        }
        for g in 0..<gateways {
            var plus = [Double](repeating: 0, count: slots + 1)
            var difference = [Double](repeating: 0, count: slots + 1)
            for k in 0..<slots {
                let step = world.stepIndex(SimTime(microseconds: Int64(k) * slot + slot / 2))
                let asIs = world.gatewayLatency(g, step: step, clients: Double(loads[g][k]))
                let withOne = world.gatewayLatency(g, step: step, clients: Double(loads[g][k] + 1))
                plus[k + 1] = plus[k] + withOne
                difference[k + 1] = difference[k] + (asIs - withOne)
            }
            sumPlus.append(plus)
            sumDifference.append(difference)
        }
        self.loads = loads
    }

    /// Every gateway's window mean from `time`, seen from `client`, into `values` (seconds).
    func windowMeans(client: Int, timeline: [(Int64, Int)], at time: Int64, into values: inout [Double]) {
        let k0 = min(slots, Int(time / slot))
        let k1 = min(slots, k0 + windowSlots)
        let width = Double(max(1, k1 - k0))
        let perHop = setting.world.settings.latencyPerHop
        for g in values.indices {
            values[g] = (sumPlus[g][k1] - sumPlus[g][k0])
        }
        // The client's own time on a gateway already counts it in the load.
        for (index, entry) in timeline.enumerated() where entry.1 >= 0 {
            let start = Int(entry.0 / slot)
            let stop = index + 1 < timeline.count ? Int(timeline[index + 1].0 / slot) : slots
            let a = max(start, k0), b = min(stop, k1)
            guard a < b else { continue }
            values[entry.1] += sumDifference[entry.1][b] - sumDifference[entry.1][a]
        }
        for g in values.indices {
            values[g] = values[g] / width + Double(setting.hops[client][g]) * perHop
        }
    }

    /// The busiest gateway over the mean (clients of the cloud), the peak utilisation, both
    /// averaged over the slots of `[from, until)`, and the time-averaged load per gateway
    /// sorted from the busiest.
    func loadStatistics(from: SimTime, until: SimTime) -> (Double, Double, [Double]) {
        let gateways = setting.scenario.gateways
        let world = setting.world
        var ratioSum = 0.0, utilisationSum = 0.0, counted = 0
        var totals = [Double](repeating: 0, count: gateways)
        for k in Int(from.microseconds / slot)..<min(slots, Int(until.microseconds / slot)) {
            var total = 0, busiest = 0
            var peak = 0.0
            let step = world.stepIndex(SimTime(microseconds: Int64(k) * slot + slot / 2))
            for g in 0..<gateways {
                let clients = loads[g][k]
                total += clients
                busiest = max(busiest, clients)
                totals[g] += Double(clients)
                peak = max(peak, world.background[g][step] + Double(clients) / world.capacity[g])
            }
            guard total > 0 else { continue }
            ratioSum += Double(busiest) / (Double(total) / Double(gateways))
            utilisationSum += peak
            counted += 1
        }
        let n = Double(max(1, counted))
        return (ratioSum / n, utilisationSum / n, totals.map { $0 / n }.sorted(by: >))
    }
}
