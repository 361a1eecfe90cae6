import Foundation
import OverlayCore

/// Table, CSV and ECDF plot of the city comparison (`overlay-sim rimo --scales guifi`).
public struct CityReport: Sendable {
    /// The scenario.
    public let scenario: CityScenario
    /// The seeds pooled.
    public let seeds: [UInt64]
    /// Per strategy, in ``CityStrategy`` order, the seeds pooled.
    public let results: [CityResult]

    /// Pools the results of several seeds, strategy by strategy.
    public init(scenario: CityScenario, seeds: [UInt64], runs: [CityResult]) {
        self.scenario = scenario
        self.seeds = seeds
        var pooled: [CityResult] = []
        for strategy in CityStrategy.allCases {
            let parts = runs.filter { $0.strategy == strategy }
            guard !parts.isEmpty else { continue }
            let merged = SelectionReport(scenario: SelectionScenario(
                name: scenario.name, clients: scenario.clients, gateways: scenario.gateways, duration: scenario.duration),
                seeds: seeds, runs: parts.map { [$0.result] }).results[0]
            let choices = parts.map { Double($0.result.latencies.count) }
            let weight = max(1, choices.reduce(0, +))
            pooled.append(CityResult(
                strategy: strategy, maxHops: parts.map(\.maxHops).max() ?? 0, result: merged,
                meanEligible: Statistics.mean(parts.map(\.meanEligible)),
                meanChosenHops: zip(parts, choices).reduce(0) { $0 + $1.0.meanChosenHops * $1.1 } / weight,
                maxChosenHops: parts.map(\.maxChosenHops).max() ?? 0, maxProbedHops: parts.map(\.maxProbedHops).max() ?? 0))
        }
        results = pooled
    }

    /// The measured clouds (at least 1), by which the per-cloud columns divide.
    var measured: Double { Double(max(1, scenario.measuredClouds)) }

    /// The per-strategy table: the smaller scales' columns and the horizon's. Latencies, probes
    /// and messages count the measured clouds' clients (``CityScenario/measureEvery``);
    /// messages and shared items are per cloud and round period (a cloud is the 200x20
    /// scale's unit), peak utilisation is the busiest of all the city's gateways.
    public func table() -> TextTable {
        var table = TextTable(header: [
            "strategy", "MaxHOPS", "eligible gw", "p50 s", "p80 s", "p80 extra s", "probes/node/round", "messages/round/cloud",
            "shared items/round/cloud", "peak util", "mean hops", "max hops chosen", "max hops probed",
        ])
        for city in results {
            let result = city.result
            table.append([
                city.strategy.rawValue, "\(city.maxHops)", Format.fixed(city.meanEligible, 1), Format.fixed(result.latency(0.5), 3),
                Format.fixed(result.latency(0.8), 3), Format.fixed(result.extra(0.8), 3),
                Format.fixed(result.probesPerNodePerRound, 2), Format.fixed(result.messagesPerRound / measured, 1),
                Format.fixed(result.sharedPerRound / measured, 1), Format.fixed(result.peakUtilisation, 2),
                Format.fixed(city.meanChosenHops, 2), "\(city.maxChosenHops)", "\(city.maxProbedHops)",
            ])
        }
        return table
    }

    /// The per-strategy CSV.
    public func csv() -> CSVTable {
        var csv = CSVTable(header: [
            "scenario", "clouds", "cloud_size", "gateways", "horizon", "measured_clouds", "seeds", "strategy", "max_hops", "eligible_gateways",
            "choices", "p50_s", "p80_s", "p95_s", "extra_p50_s", "extra_p80_s", "extra_p95_s", "probes_per_node_round",
            "messages_per_round_per_cloud", "shared_items_per_round_per_cloud", "busiest_over_mean", "peak_utilisation", "mean_hops_chosen",
            "max_hops_chosen", "max_hops_probed", "unserved", "skipped_rounds",
        ])
        let seedText = seeds.map(String.init).joined(separator: " ")
        for city in results {
            let result = city.result
            csv.append([
                scenario.name, "\(scenario.clouds)", "\(scenario.cloudSize)", "\(scenario.gateways)", "\(scenario.horizon)",
                "\(scenario.measuredClouds)", seedText, city.strategy.rawValue, "\(city.maxHops)", Format.fixed(city.meanEligible, 2),
                "\(result.latencies.count)", Format.fixed(result.latency(0.5), 4), Format.fixed(result.latency(0.8), 4),
                Format.fixed(result.latency(0.95), 4), Format.fixed(result.extra(0.5), 4), Format.fixed(result.extra(0.8), 4),
                Format.fixed(result.extra(0.95), 4), Format.fixed(result.probesPerNodePerRound, 3),
                Format.fixed(result.messagesPerRound / measured, 2), Format.fixed(result.sharedPerRound / measured, 2),
                Format.fixed(result.busiestOverMean, 3), Format.fixed(result.peakUtilisation, 3),
                Format.fixed(city.meanChosenHops, 3), "\(city.maxChosenHops)", "\(city.maxProbedHops)", "\(result.unserved)",
                "\(result.skipped)",
            ])
        }
        return csv
    }

    /// The ECDF of the extra latency over the omniscient choice, per strategy.
    public func plotExtra() -> String {
        var plot = SVGPlot(
            title: "Extra latency over the omniscient choice (\(scenario.clients) clients in \(scenario.clouds) clouds, \(scenario.gateways) gateways)",
            xLabel: "extra content latency (s, log scale; 1 ms and below drawn at 1 ms)", yLabel: "fraction of selections (ECDF)")
        plot.logX = true
        plot.yRange = 0...1
        plot.xRange = 0.001...max(0.01, (results.map { $0.result.extra(0.99) }.max() ?? 1) * 1.1)
        for city in results where city.strategy != .omniscient {
            plot.series.append(.init(
                name: city.strategy.rawValue, points: SVGPlot.ecdf(city.result.extras.map { max($0, 0.001) }),
                colour: CityStrategy.allCases.firstIndex(of: city.strategy)))
        }
        return plot.render()
    }
}
