import ArgumentParser
import OverlaySim

/// `overlay-sim rimo`: the RIMO paper's comparison, and collaborative selection.
struct RimoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rimo",
        abstract: "Compare gateway selection strategies on simulated gateways (the RIMO paper's Figure 4 and Table 1).",
        discussion: """
            Runs random, power-of-two, rimo, collaborative and brute-force (overlayd's real \
            GatewaySelector) and the omniscient oracle on the same mesh and gateways, at the \
            paper's scale (5 clients, 12 gateways), 200 nodes / 20 gateways and 1,000 nodes / \
            40 gateways. Every client runs a selection round every 5 s; a choice is judged by \
            the chosen gateway's true mean content latency over the next 5 minutes.
            """)

    @Option(help: "The first seed; --seeds runs this many consecutive seeds and pools them.")
    var seed: UInt64 = 1

    @Option(help: "How many consecutive seeds to pool.")
    var seeds: Int = 3

    @Option(help: "Scales to run, comma-separated: paper, 200x20, 1000x40 (default all three; paper,200x20 with --through-agents), guifi (175 clouds x 200 clients, 400 gateways; guifi:CLOUDSxSIZExGATEWAYS for a smaller city).")
    var scales: String?

    @Flag(help: "Run every node's real agent (Agent, GatewayGossip, signed items on the simulated network) instead of the selector alone; above 50 nodes it counts 10 minutes per seed unless --minutes says otherwise (200 agents are slow: see Docs/results.md).")
    var throughAgents = false

    @Option(help: "With --through-agents: the simulated network's datagram loss rate (default 0.05).")
    var loss: Double = AgentSelectionExperiment.defaultLossRate

    @Option(help: "Override: the round jitter in seconds (default 1).")
    var jitter: Double?

    @Option(help: "Override: gateway capacity headroom, total capacity over clients (default 3).")
    var headroom: Double?

    @Option(help: "Override: the round interval in seconds (default 5).")
    var interval: Double?

    @Option(help: "Override: the selector's freshness window in seconds (default 300).")
    var freshness: Double?

    @Option(help: "Override: the selector's load-change tolerance, a fraction of capacity (default 0.1).")
    var loadTolerance: Double?

    @Option(help: "Override: the collaborative probe budget, probes per node per round (default 0.25).")
    var probeBudget: Double?

    @Option(help: "Override: observers held per gateway (default 32).")
    var observersPerGateway: Int?

    @Option(help: "Override: the gateways' other users, a range of capacity shares LO-HI (default 0.1-0.5), to check the selector on backgrounds it does not assume.")
    var background: String?

    @Option(help: "Override: the background share the collaborative selector assumes (default 0.3).")
    var assumedBackground: Double?

    @Option(help: "Override: minutes counted per seed.")
    var minutes: Double?

    @Option(help: "Print the selector's explanation of every decision of this client (with --strategy) instead of the comparison.")
    var explain: Int?

    @Option(help: "The strategy for --explain.")
    var strategy: String = "collaborative"

    @Option(help: "guifi scales: the selection horizon, MaxHOPS, of the horizon-bound strategies (default 5).")
    var horizon: Int?

    @Option(help: "guifi scales: measure every Nth cloud; in the collaborative run only those run the collaborative selector, the rest RIMO with the horizon (default 15 at guifi, 1 at guifi:CLOUDSxSIZExGATEWAYS).")
    var measureEvery: Int?

    @Option(help: "Seeds for the 1000x40 and guifi scales (they are slow; default 1).")
    var largeSeeds: Int = 1

    @Option(help: "Strategies to run, comma-separated (default: all six).")
    var strategies: String?

    @Option(help: "Where to write the CSV and SVG files.")
    var out: String = "./sim-results"

    static func scenario(_ name: String) throws -> SelectionScenario {
        switch name {
        case "paper": return .paper
        case "200x20": return .medium
        case "1000x40": return .large
        default: throw ValidationErrorMessage("unknown scale '\(name)'; use paper, 200x20, 1000x40, guifi or guifi:CLOUDSxSIZExGATEWAYS")
        }
    }

    func run() throws {
        let started = ContinuousClock.now
        guard seeds >= 1 else { throw ValidationErrorMessage("--seeds must be at least 1") }
        let scaleNames = scales ?? (throughAgents ? "paper,200x20" : "paper,200x20,1000x40")
        let cities = try scaleNames.split(separator: ",").compactMap { try cityScenario(String($0)) }
        if !cities.isEmpty {
            guard !throughAgents, explain == nil else {
                throw ValidationErrorMessage("guifi scales run the selectors alone: drop --through-agents and --explain")
            }
            guard cities.count == scaleNames.split(separator: ",").count else {
                throw ValidationErrorMessage("run guifi scales on their own (--scales guifi), not together with paper, 200x20 or 1000x40")
            }
            try runCities(cities, seeds: (0..<UInt64(max(1, largeSeeds))).map { seed + $0 })
            Output.reportRunTime(since: started)
            return
        }
        let chosen = try scaleNames.split(separator: ",").map { name -> SelectionScenario in
            var scenario = try Self.scenario(String(name))
            if let jitter { scenario.roundJitter = .milliseconds(Int64(jitter * 1000)) }
            if let headroom { scenario.world.headroom = headroom }
            if let interval { scenario.roundInterval = .milliseconds(Int64(interval * 1000)) }
            if let background {
                let bounds = background.split(separator: "-").compactMap { Double($0) }
                guard bounds.count == 2, bounds[0] >= 0, bounds[0] <= bounds[1], bounds[1] < 0.95 else {
                    throw ValidationErrorMessage("--background takes LO-HI with 0 <= LO <= HI < 0.95, e.g. 0.1-0.5; got '\(background)'")
                }
                scenario.world.backgroundRange = bounds[0]...bounds[1]
            }
            if let assumedBackground { scenario.selector.backgroundShare = assumedBackground }
            if let minutes { scenario.duration = .seconds(Int64(minutes * 60)) }
            if let freshness { scenario.selector.freshnessWindow = .milliseconds(Int64(freshness * 1000)) }
            if let loadTolerance { scenario.selector.loadChangeTolerance = loadTolerance }
            if let probeBudget { scenario.selector.probeBudget = probeBudget }
            if let observersPerGateway { scenario.selector.observersPerGateway = observersPerGateway }
            return scenario
        }

        let seedList = (0..<UInt64(seeds)).map { seed + $0 }
        let kinds = try strategies.map { list in
            try list.split(separator: ",").map { name in
                guard let kind = SelectionStrategy(rawValue: String(name)) else {
                    throw ValidationErrorMessage("unknown strategy '\(name)'; use \(SelectionStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        } ?? SelectionStrategy.allCases
        if let explain {
            guard let kind = SelectionStrategy(rawValue: strategy) else {
                throw ValidationErrorMessage("unknown strategy '\(strategy)'; use one of \(SelectionStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            for scenario in chosen {
                guard explain >= 0, explain < scenario.clients else {
                    throw ValidationErrorMessage("--explain takes a client number from 0 to \(scenario.clients - 1) at scale \(scenario.name)")
                }
                for line in SelectionExperiment.explain(scenario, seed: seed, strategy: kind, client: explain) { print(line) }
            }
            return
        }
        if throughAgents {
            guard (0...1).contains(loss) else { throw ValidationErrorMessage("--loss must be between 0 and 1") }
            try runThroughAgents(chosen, seeds: seedList)
            Output.reportRunTime(since: started)
            return
        }
        for scenario in chosen {
            let scaleStart = ContinuousClock.now
            let seedList = scenario.name == SelectionScenario.large.name ? Array(seedList.prefix(max(1, largeSeeds))) : seedList
            let jobs = seedList.flatMap { seed in kinds.map { (seed, $0) } }
            let results = Parallel.map(jobs) { job in SelectionExperiment.run(scenario, seed: job.0, strategies: [job.1])[0] }
            let runs = seedList.map { seed in zip(jobs, results).filter { $0.0.0 == seed }.map(\.1) }
            let report = SelectionReport(scenario: scenario, seeds: seedList, runs: runs)
            print("\(scenario.name): \(scenario.clients) clients, \(scenario.gateways) gateways, seeds \(seedList.map(String.init).joined(separator: ",")), \(Int(scenario.duration.seconds / 60)) min counted per seed")
            print(report.table().render())
            print("")
            try Output.write(report.csv().render(), to: out, name: "rimo-\(scenario.name).csv")
            try Output.write(report.ecdfCSV().render(), to: out, name: "rimo-\(scenario.name)-ecdf.csv")
            try Output.write(report.plotECDF(), to: out, name: "rimo-\(scenario.name)-ecdf.svg")
            try Output.write(report.plotExtra(), to: out, name: "rimo-\(scenario.name)-extra.svg")
            try Output.write(report.plotLoad(), to: out, name: "rimo-\(scenario.name)-load.svg")
            Output.stderr("\(scenario.name): \(Format.fixed((ContinuousClock.now - scaleStart).seconds, 1)) s")
        }
        Output.reportRunTime(since: started)
    }

    /// `--through-agents`: every strategy through real agents, the oracle from the selector-only
    /// mode, the same table, and the traffic table beside it.
    private func runThroughAgents(_ scenarios: [SelectionScenario], seeds seedList: [UInt64]) throws {
        for chosen in scenarios {
            var counted = chosen
            if minutes == nil, counted.clients > 50 { counted.duration = .seconds(600) }
            let scenario = counted
            let scaleStart = ContinuousClock.now
            let jobs = seedList.flatMap { seed in SelectionStrategy.allCases.map { (seed, $0) } }
            let results = Parallel.map(jobs) { job in
                let jobStart = ContinuousClock.now
                let result = AgentSelectionExperiment.run(scenario, seed: job.0, strategy: job.1, lossRate: loss)
                Output.stderr("\(scenario.name) through agents, seed \(job.0), \(job.1): \(Format.fixed((ContinuousClock.now - jobStart).seconds, 1)) s")
                return result
            }
            let runs = seedList.map { seed in zip(jobs, results).filter { $0.0.0 == seed }.map(\.1) }
            let report = AgentSelectionReport(scenario: scenario, seeds: seedList, runs: runs)
            print("\(scenario.name) through agents: \(scenario.clients) agents, \(scenario.gateways) gateways, loss \(Format.fixed(loss, 2)), seeds \(seedList.map(String.init).joined(separator: ",")), \(Int(scenario.duration.seconds / 60)) min counted per seed")
            print(report.selection.table().render())
            print("")
            print(report.trafficTable().render())
            print("")
            try Output.write(report.selection.csv().render(), to: out, name: "rimo-agents-\(scenario.name).csv")
            try Output.write(report.trafficCSV().render(), to: out, name: "rimo-agents-\(scenario.name)-traffic.csv")
            try Output.write(report.selection.plotExtra(), to: out, name: "rimo-agents-\(scenario.name)-extra.svg")
            Output.stderr("\(scenario.name) through agents: \(Format.fixed((ContinuousClock.now - scaleStart).seconds, 1)) s")
        }
    }
}
