import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// guifi.net's scale (`overlay-sim rimo --scales guifi`) scaled down: 6 clouds of 20 clients,
/// 14 gateways (the full scale's 400 per 35,000 clients), 2 minutes warm-up and 2 counted.
@Suite struct CityTests {
    static var small: CityScenario {
        var city = try! CityScenario.parse("guifi:6x20x14")!
        city.warmUp = .seconds(120)
        city.duration = .seconds(120)
        city.horizon = 3
        return city
    }

    static func report(_ city: CityScenario, seed: UInt64, _ strategies: [CityStrategy]) -> CityReport {
        CityReport(scenario: city, seeds: [seed], runs: strategies.map { CityExperiment.run(city, seed: seed, strategy: $0) })
    }

    @Test func scaleNamesParse() throws {
        let guifi = try #require(try CityScenario.parse("guifi"))
        #expect(guifi.clients == 35_000)
        #expect(guifi.gateways == 400)
        #expect(guifi.measuredClouds == 12)
        let small = try #require(try CityScenario.parse("guifi:12x50x28"))
        #expect(small.clients == 600)
        #expect(small.measureEvery == 1)
        #expect(try CityScenario.parse("200x20") == nil)
        #expect(throws: CityScenarioError.self) { try CityScenario.parse("guifi:12x50") }
        #expect(throws: CityScenarioError.self) { try CityScenario.parse("guifi:0x50x28") }
    }

    /// Hops grow with distance: from every cloud, its nearest gateway is fewer hops away than
    /// its farthest, and clients of a cloud differ only by their access hops.
    @Test func hopsGrowWithDistance() {
        let map = CityMap(scenario: Self.small, seed: 5)
        for cloud in 0..<map.scenario.clouds {
            let client = cloud * map.scenario.cloudSize
            let centre = map.cloudCentres[cloud]
            let distances = map.gatewayPositions.map { ($0.x - centre.x) * ($0.x - centre.x) + ($0.y - centre.y) * ($0.y - centre.y) }
            let near = distances.indices.min { distances[$0] < distances[$1] }!
            let far = distances.indices.max { distances[$0] < distances[$1] }!
            #expect(map.hops[client][near] < map.hops[client][far])
            for other in client..<(client + map.scenario.cloudSize) {
                let offsets = Set(zip(map.hops[other], map.hops[client]).map { $0 - $1 })
                #expect(offsets.count == 1, "a client's hops are its cloud's plus its own access hops")
            }
        }
        #expect(map.maxHops > Self.small.horizon)
    }

    /// The same seed gives the same table and CSV byte for byte; another seed another one.
    @Test func sameSeedSameCity() {
        let strategies: [CityStrategy] = [.collaborative, .rimoUnbounded, .omniscient]
        let first = Self.report(Self.small, seed: 3, strategies)
        let again = Self.report(Self.small, seed: 3, strategies)
        let other = Self.report(Self.small, seed: 4, strategies)
        #expect(first.csv().render() == again.csv().render())
        #expect(first.table().render() == again.table().render())
        #expect(first.csv().render() != other.csv().render())
        let collaborative = first.results.first { $0.strategy == .collaborative }!
        #expect(collaborative.result.latencies.count > 0)
        #expect(collaborative.result.probes > 0, "someone must measure")
        #expect(collaborative.result.sharedItems > 0, "measurements are shared within the cloud")
    }

    /// The horizon keeps candidates near: every horizon-bound strategy probes and chooses only
    /// gateways within MaxHOPS, while RIMO without the horizon probes beyond it.
    @Test func horizonKeepsCandidatesNear() {
        let city = Self.small
        let report = Self.report(city, seed: 2, CityStrategy.allCases)
        for result in report.results where result.strategy.keepsHorizon {
            #expect(result.maxHops == city.horizon)
            #expect(result.maxChosenHops <= city.horizon, "\(result.strategy) chose a gateway \(result.maxChosenHops) hops away")
            #expect(result.maxProbedHops <= city.horizon, "\(result.strategy) probed a gateway \(result.maxProbedHops) hops away")
            #expect(result.meanEligible < Double(city.gateways))
            #expect(result.result.latencies.count > 0)
        }
        let unbounded = report.results.first { $0.strategy == .rimoUnbounded }!
        #expect(unbounded.meanEligible == Double(city.gateways))
        #expect(unbounded.maxProbedHops > city.horizon, "sampling over all gateways reaches beyond the horizon")
        let brute = report.results.first { $0.strategy == .bruteForce }!
        #expect(brute.result.probesPerNodePerRound > 1, "brute force probes every gateway within the horizon")
    }

    /// With every second cloud measured, only those clouds' rounds count, and in the
    /// collaborative run only they hold selectors.
    @Test func onlyMeasuredCloudsCount() {
        var city = Self.small
        city.measureEvery = 2
        #expect(city.measuredClouds == 3)
        let map = CityMap(scenario: city, seed: 1)
        let run = CityRun(map: map, strategy: .collaborative, seed: 1)
        #expect(run.selectors.count == 3 * city.cloudSize)
        let all = CityExperiment.run(Self.small, seed: 1, strategy: .rimo)
        let half = CityExperiment.run(city, seed: 1, strategy: .rimo)
        #expect(abs(Double(half.result.rounds * 2 - all.result.rounds)) < 0.05 * Double(all.result.rounds))
        #expect(half.result.rounds > 0)
    }
}
