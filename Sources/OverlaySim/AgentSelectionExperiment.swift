import Foundation
import OverlayCore

/// What one strategy achieved through real agents (`overlay-sim rimo --through-agents`): the
/// selector-only figures, measured the same way, and the traffic it cost.
public struct AgentStrategyResult: Sendable {
    /// The latency, probe and load figures, computed exactly as ``SelectionExperiment``'s
    /// (``StrategyResult``): every decided round of every agent is a choice judged by the
    /// omniscience metric.
    public let result: StrategyResult
    /// The simulated network's loss rate.
    public let lossRate: Double
    /// Seconds of virtual time counted.
    public let countedSeconds: Double
    /// Nodes (agents) in the cloud.
    public let nodes: Int
    /// UDP payload bytes the agents sent in counted time.
    public let bytesSent: Int
    /// Of those, the bytes of gateway items (observations, gateway and selection
    /// announcements, with their framing: ``GatewayTraffic``).
    public let gatewayBytes: Int
    /// Datagrams the agents sent in counted time.
    public let datagramsSent: Int
    /// Whether the figures come from agents (`false`: the omniscient oracle, which runs no agent).
    public let throughAgents: Bool

    /// Gateway gossip bytes per node per second.
    public var gatewayBytesPerNodePerSecond: Double { perNodePerSecond(gatewayBytes) }
    /// Every other byte (membership, quorum view, headers, signatures) per node per second.
    public var membershipBytesPerNodePerSecond: Double { perNodePerSecond(bytesSent - gatewayBytes) }
    /// All bytes per node per second.
    public var totalBytesPerNodePerSecond: Double { perNodePerSecond(bytesSent) }

    private func perNodePerSecond(_ bytes: Int) -> Double {
        countedSeconds > 0 && nodes > 0 ? Double(bytes) / Double(nodes) / countedSeconds : 0
    }
}

/// Gateway selection run by the real agents of a ``SimulatedCloud``: every node's ``Agent``
/// with its ``GatewayGossip`` and ``GatewaySelector`` decides, probes go to a ``WorldProber``
/// over the same simulated gateways as ``SelectionExperiment``, and observations and
/// selections travel as signed items over the simulated network, with its loss.
///
/// The mesh, the gateways, the clients' hop distances and the omniscience metric are
/// ``SelectionExperiment``'s (same scenario, same seed, same figures), so the two modes can be
/// compared row by row. What differs is everything the selector-only mode idealises: rounds
/// are the agents' own (``SelectorSettings/reselectionPeriod`` set to the scenario's round
/// interval, spread by its jitter), shared items arrive when gossip brings them (or never,
/// under loss), the selector's cloud size is the agent's live member count, and the
/// datagrams between clients take the delays of the simulator's own mesh of the clients
/// (``MeshTopology``), not of the selection mesh.
public enum AgentSelectionExperiment {
    /// The strategies that run through agents: the selector's five. The omniscient oracle
    /// runs no agent; ``run(_:seed:strategy:lossRate:)`` answers it with the selector-only
    /// oracle on the same setting.
    public static let agentStrategies: [SelectionStrategy] = SelectionStrategy.allCases.filter { $0.selectorStrategy != nil }

    /// The loss rate `--through-agents` uses unless told: 5%, the design's cost target's.
    public static let defaultLossRate = 0.05

    /// Runs one strategy of `scenario` with `seed` through agents.
    ///
    /// - Parameters:
    ///   - scenario: clients, gateways, durations, selector settings.
    ///   - seed: the seed of the mesh, the gateways, the cloud and every probe.
    ///   - strategy: the strategy every agent runs.
    ///   - lossRate: the simulated network's datagram loss.
    /// - Returns: the figures; for ``SelectionStrategy/omniscient``, the oracle's (no traffic).
    public static func run(_ scenario: SelectionScenario, seed: UInt64, strategy: SelectionStrategy, lossRate: Double) -> AgentStrategyResult {
        let setting = SelectionExperiment.Setting(scenario: scenario, seed: seed)
        guard let selectorStrategy = strategy.selectorStrategy else {
            let oracle = SelectionExperiment.run(scenario, seed: seed, strategies: [strategy])[0]
            return AgentStrategyResult(
                result: oracle, lossRate: lossRate, countedSeconds: scenario.duration.seconds, nodes: scenario.clients,
                bytesSent: 0, gatewayBytes: 0, datagramsSent: 0, throughAgents: false)
        }
        var run = AgentSelectionRun(setting: setting, strategy: strategy, selectorStrategy: selectorStrategy, seed: seed, lossRate: lossRate)
        return run.execute()
    }
}

/// One strategy's run through agents: the cloud, its prober, and the ledger of decisions.
struct AgentSelectionRun {
    let setting: SelectionExperiment.Setting
    let strategy: SelectionStrategy
    let lossRate: Double
    let cloud: SimulatedCloud
    let prober: WorldProber
    let book: Book

    /// What the taps write while the cloud runs.
    final class Book {
        /// ``SelectionRun``'s bookkeeping (each client's gateway, the load timeline, the counted
        /// decisions) and its summary; its own selectors are not used (it is made for the oracle,
        /// which has none).
        var ledger: SelectionRun
        var countFrom: Int64 = 0
        var countUntil: Int64 = 0
        var probes = 0
        var sharedItems = 0
        /// Per node, probes started for each round not decided yet (a round's probes count
        /// with the round, as in the selector-only mode, wherever they fall in time).
        var roundProbes: [[UInt64: Int]] = []
        var bytesSent = 0
        var gatewayBytes = 0
        var datagramsSent = 0

        init(ledger: SelectionRun) { self.ledger = ledger }

        func counts(_ time: SimTime) -> Bool { time.microseconds >= countFrom && time.microseconds < countUntil }
    }

    init(setting: SelectionExperiment.Setting, strategy: SelectionStrategy, selectorStrategy: GatewaySelector.Strategy, seed: UInt64, lossRate: Double) {
        self.setting = setting
        self.strategy = strategy
        self.lossRate = lossRate
        let scenario = setting.scenario
        let ledger = SelectionRun(setting: setting, strategy: .omniscient, seed: seed)
        book = Book(ledger: ledger)
        book.roundProbes = [[UInt64: Int]](repeating: [:], count: scenario.clients)
        book.countFrom = ledger.countFrom.microseconds
        book.countUntil = ledger.countUntil.microseconds
        prober = WorldProber(world: setting.world, gateways: ledger.ids, hops: setting.hops, seed: seed)

        var configuration = CloudConfiguration(nodeCount: scenario.clients)
        configuration.network.lossRate = lossRate
        configuration.meshDegree = scenario.meshDegree
        cloud = SimulatedCloud(configuration: configuration, seed: seed)

        var selector = scenario.selector
        selector.maxHops = max(selector.maxHops, setting.maxHops)
        // The agents' periodic round is the scenario's round, spread by its jitter.
        selector.reselectionPeriod = scenario.roundInterval
        selector.reselectionJitter = min(0.5, scenario.roundJitter.seconds / max(0.001, scenario.roundInterval.seconds))
        var base = GatewayGossipSettings(selector: selector)
        base.strategy = selectorStrategy
        base.probeTimeout = scenario.world.probeTimeout
        let ids = ledger.ids
        let world = setting.world
        let hops = setting.hops
        let gateways: [[Gateway]] = (0..<scenario.clients).map { client in
            (0..<scenario.gateways).map { g in
                Gateway(
                    id: ids[g], proxy: ProxyEndpoint(host: "10.200.\(g / 250).\(g % 250 + 1)", port: 3128),
                    capacity: Int(world.capacity[g].rounded()), hops: hops[client][g])
            }
        }
        cloud.gatewaySettings = { client in
            var settings = base
            settings.gateways = gateways[client]
            return settings
        }
        cloud.prober = CountingProber(prober: prober, book: book)
        let book = self.book
        let prober = self.prober
        unowned let observed = cloud
        cloud.decisionTap = { client, decision in
            let time = observed.now
            let counted = book.counts(time)
            let probes = book.roundProbes[client].removeValue(forKey: decision.round) ?? 0
            book.roundProbes[client] = book.roundProbes[client].filter { $0.key > decision.round }
            if counted {
                book.ledger.rounds += 1
                book.probes += probes
                // Each probe's result is gossiped as an observation; a change as a selection.
                book.sharedItems += probes + (decision.announcement != nil ? 1 : 0)
            }
            book.ledger.decide(client, gateway: decision.chosen.flatMap { prober.worldIndex(of: $0) }, at: time.microseconds, counted: counted)
            prober.load = book.ledger.load
        }
        cloud.transmitTap = { _, _, bytes in
            guard book.counts(observed.now) else { return }
            book.datagramsSent += 1
            book.bytesSent += bytes.count
            book.gatewayBytes += GatewayTraffic.gatewayBytes(in: bytes)
        }
    }

    /// Counts each round's probes for the ledger.
    final class CountingProber: SimulatedGatewayProber {
        let prober: WorldProber
        let book: Book
        init(prober: WorldProber, book: Book) {
            self.prober = prober
            self.book = book
        }
        func measure(_ probe: GatewayProbe, from node: Int, at time: SimTime) -> (result: ProbeResult, duration: Duration) {
            book.roundProbes[node][probe.round, default: 0] += 1
            return prober.measure(probe, from: node, at: time)
        }
    }

    mutating func execute() -> AgentStrategyResult {
        let scenario = setting.scenario
        cloud.startAll()
        cloud.run(until: SimTime(microseconds: book.countUntil))
        book.ledger.probes = book.probes
        book.ledger.sharedItems = book.sharedItems
        let periods = Int(scenario.duration.microsecondsValue / max(1, scenario.roundInterval.microsecondsValue))
        let summary = book.ledger.summarize(periods: periods)
        let result = StrategyResult(
            strategy: strategy, latencies: summary.latencies, extras: summary.extras, rounds: summary.rounds,
            periods: summary.periods, probes: summary.probes, sharedItems: summary.sharedItems, unserved: summary.unserved,
            skipped: summary.skipped, busiestOverMean: summary.busiestOverMean, peakUtilisation: summary.peakUtilisation,
            loadProfile: summary.loadProfile)
        return AgentStrategyResult(
            result: result, lossRate: lossRate, countedSeconds: scenario.duration.seconds, nodes: scenario.clients,
            bytesSent: book.bytesSent, gatewayBytes: book.gatewayBytes, datagramsSent: book.datagramsSent, throughAgents: true)
    }
}
