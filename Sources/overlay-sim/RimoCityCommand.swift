import ArgumentParser
import OverlaySim

/// `overlay-sim rimo --scales guifi`: the city comparison (the RIMO paper's section 4).
extension RimoCommand {
    /// The city of a scale name with this command's overrides, or `nil` if the name is not a city.
    func cityScenario(_ name: String) throws -> CityScenario? {
        let parsed: CityScenario?
        do { parsed = try CityScenario.parse(name) } catch let error as CityScenarioError {
            throw ValidationErrorMessage(error.description)
        }
        guard var city = parsed else { return nil }
        if let horizon {
            guard horizon >= 1 else { throw ValidationErrorMessage("--horizon must be at least 1 hop") }
            city.horizon = horizon
        }
        if let jitter { city.roundJitter = .milliseconds(Int64(jitter * 1000)) }
        if let headroom { city.world.headroom = headroom }
        if let interval { city.roundInterval = .milliseconds(Int64(interval * 1000)) }
        if let minutes { city.duration = .seconds(Int64(minutes * 60)) }
        if let freshness { city.selector.freshnessWindow = .milliseconds(Int64(freshness * 1000)) }
        if let loadTolerance { city.selector.loadChangeTolerance = loadTolerance }
        if let probeBudget { city.selector.probeBudget = probeBudget }
        if let observersPerGateway { city.selector.observersPerGateway = observersPerGateway }
        if let assumedBackground { city.selector.backgroundShare = assumedBackground }
        if let measureEvery {
            guard measureEvery >= 1 else { throw ValidationErrorMessage("--measure-every must be at least 1") }
            city.measureEvery = measureEvery
        }
        return city
    }

    /// Runs every city strategy (or those of `--strategies`) for each seed, two at a time.
    func runCities(_ cities: [CityScenario], seeds seedList: [UInt64]) throws {
        let kinds = try strategies.map { list in
            try list.split(separator: ",").map { name in
                guard let kind = CityStrategy(rawValue: String(name)) else {
                    throw ValidationErrorMessage("unknown strategy '\(name)' for a guifi scale; use \(CityStrategy.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        } ?? CityStrategy.allCases
        for city in cities {
            let scaleStart = ContinuousClock.now
            let jobs = seedList.flatMap { seed in kinds.map { (seed, $0) } }
            let results = Parallel.map(jobs) { job in
                let jobStart = ContinuousClock.now
                let result = CityExperiment.run(city, seed: job.0, strategy: job.1)
                Output.stderr("\(city.name), seed \(job.0), \(job.1): \(Format.fixed((ContinuousClock.now - jobStart).seconds, 1)) s")
                return result
            }
            let report = CityReport(scenario: city, seeds: seedList, runs: results)
            print("\(city.name): \(city.clients) clients in \(city.clouds) clouds of \(city.cloudSize), \(city.gateways) gateways, horizon \(city.horizon) hops, \(city.measuredClouds) clouds measured (collaborative there, RIMO with the horizon elsewhere in its run), seeds \(seedList.map(String.init).joined(separator: ",")), \(Format.fixed(city.duration.seconds / 60, 1)) min counted per seed")
            print(report.table().render())
            print("")
            try Output.write(report.csv().render(), to: out, name: "rimo-\(city.name).csv")
            try Output.write(report.plotExtra(), to: out, name: "rimo-\(city.name)-extra.svg")
            Output.stderr("\(city.name): \(Format.fixed((ContinuousClock.now - scaleStart).seconds, 1)) s")
        }
    }
}
