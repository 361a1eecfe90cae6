/// Tables, CSV and the ECDF plot of a RIMO comparison (the paper's Figure 4 and Table 1).
public struct SelectionReport: Sendable {
    /// The scenario.
    public let scenario: SelectionScenario
    /// The seeds pooled.
    public let seeds: [UInt64]
    /// Per strategy, the results of every seed pooled into one.
    public let results: [StrategyResult]

    /// Pools the results of several seeds, strategy by strategy.
    public init(scenario: SelectionScenario, seeds: [UInt64], runs: [[StrategyResult]]) {
        self.scenario = scenario
        self.seeds = seeds
        var pooled: [StrategyResult] = []
        for strategy in SelectionStrategy.allCases {
            let parts = runs.flatMap { $0.filter { $0.strategy == strategy } }
            guard !parts.isEmpty else { continue }
            let profileLength = parts.map(\.loadProfile.count).max() ?? 0
            var profile = [Double](repeating: 0, count: profileLength)
            for part in parts { for (index, value) in part.loadProfile.enumerated() { profile[index] += value / Double(parts.count) } }
            pooled.append(StrategyResult(
                strategy: strategy, latencies: parts.flatMap(\.latencies).sorted(), extras: parts.flatMap(\.extras).sorted(),
                rounds: parts.reduce(0) { $0 + $1.rounds }, periods: parts.reduce(0) { $0 + $1.periods },
                probes: parts.reduce(0) { $0 + $1.probes }, sharedItems: parts.reduce(0) { $0 + $1.sharedItems },
                unserved: parts.reduce(0) { $0 + $1.unserved }, skipped: parts.reduce(0) { $0 + $1.skipped },
                busiestOverMean: Statistics.mean(parts.map(\.busiestOverMean)),
                peakUtilisation: Statistics.mean(parts.map(\.peakUtilisation)), loadProfile: profile))
        }
        results = pooled
    }

    /// The per-strategy table.
    public func table() -> TextTable {
        var table = TextTable(header: [
            "strategy", "p50 s", "p80 s", "p95 s", "p80 extra s", "probes/node/round", "messages/round", "shared items/round",
            "busiest/mean", "peak util",
        ])
        for result in results {
            table.append([
                result.strategy.rawValue, Format.fixed(result.latency(0.5), 3), Format.fixed(result.latency(0.8), 3),
                Format.fixed(result.latency(0.95), 3), Format.fixed(result.extra(0.8), 3),
                Format.fixed(result.probesPerNodePerRound, 2), Format.fixed(result.messagesPerRound, 2),
                Format.fixed(result.sharedPerRound, 2), Format.fixed(result.busiestOverMean, 2),
                Format.fixed(result.peakUtilisation, 2),
            ])
        }
        return table
    }

    /// The per-strategy CSV.
    public func csv() -> CSVTable {
        var csv = CSVTable(header: [
            "scenario", "clients", "gateways", "seeds", "strategy", "choices", "p50_s", "p80_s", "p95_s", "extra_p50_s",
            "extra_p80_s", "extra_p95_s", "probes_per_node_round", "messages_per_round", "shared_items_per_round",
            "busiest_over_mean", "peak_utilisation", "unserved", "skipped_rounds",
        ])
        let seedText = seeds.map(String.init).joined(separator: " ")
        for result in results {
            csv.append([
                scenario.name, "\(scenario.clients)", "\(scenario.gateways)", seedText, result.strategy.rawValue,
                "\(result.latencies.count)", Format.fixed(result.latency(0.5), 4), Format.fixed(result.latency(0.8), 4),
                Format.fixed(result.latency(0.95), 4), Format.fixed(result.extra(0.5), 4), Format.fixed(result.extra(0.8), 4),
                Format.fixed(result.extra(0.95), 4), Format.fixed(result.probesPerNodePerRound, 3),
                Format.fixed(result.messagesPerRound, 3), Format.fixed(result.sharedPerRound, 3),
                Format.fixed(result.busiestOverMean, 3), Format.fixed(result.peakUtilisation, 3), "\(result.unserved)",
                "\(result.skipped)",
            ])
        }
        return csv
    }

    /// The ECDF points of every strategy (thinned), for plotting elsewhere.
    public func ecdfCSV() -> CSVTable {
        var csv = CSVTable(header: ["strategy", "content_latency_s", "fraction"])
        for result in results {
            for point in SVGPlot.ecdf(result.latencies) {
                csv.append([result.strategy.rawValue, Format.fixed(point.x, 4), Format.fixed(point.y, 4)])
            }
        }
        return csv
    }

    /// The ECDF of content latency per strategy, like the paper's Figure 4.
    public func plotECDF() -> String {
        var plot = SVGPlot(
            title: "Content latency of the chosen gateway (\(scenario.clients) clients, \(scenario.gateways) gateways)",
            xLabel: "content latency over the next \(Int(scenario.window.seconds / 60)) min (s, log scale)",
            yLabel: "fraction of selections (ECDF)")
        plot.logX = true
        plot.yRange = 0...1
        let lows = results.compactMap { $0.latencies.first }.filter { $0 > 0 }
        let highs = results.map { $0.latency(0.99) }
        plot.xRange = max(0.001, (lows.min() ?? 0.01) * 0.9)...max(0.01, (highs.max() ?? 1) * 1.1)
        plot.horizontalReferences = [(0.8, "80% of selections (the paper's comparison point)")]
        for result in results {
            plot.series.append(.init(
                name: result.strategy.rawValue, points: SVGPlot.ecdf(result.latencies),
                colour: SelectionStrategy.allCases.firstIndex(of: result.strategy)))
        }
        return plot.render()
    }

    /// The ECDF of the extra latency over the omniscient choice, per strategy.
    public func plotExtra() -> String {
        var plot = SVGPlot(
            title: "Extra latency over the omniscient choice (\(scenario.clients) clients, \(scenario.gateways) gateways)",
            xLabel: "extra content latency (s, log scale; 1 ms and below drawn at 1 ms)", yLabel: "fraction of selections (ECDF)")
        plot.logX = true
        plot.yRange = 0...1
        let highs = results.map { $0.extra(0.99) }
        plot.xRange = 0.001...max(0.01, (highs.max() ?? 1) * 1.1)
        for result in results where result.strategy != .omniscient {
            plot.series.append(.init(
                name: result.strategy.rawValue, points: SVGPlot.ecdf(result.extras.map { max($0, 0.001) }),
                colour: SelectionStrategy.allCases.firstIndex(of: result.strategy)))
        }
        return plot.render()
    }

    /// Time-averaged clients per gateway, busiest first, per strategy (the paper's Figure 5).
    public func plotLoad() -> String {
        var plot = SVGPlot(
            title: "Clients per gateway, busiest first (\(scenario.clients) clients, \(scenario.gateways) gateways)",
            xLabel: "gateway rank", yLabel: "clients (time average)")
        plot.legendAtBottomRight = false
        for result in results {
            plot.series.append(.init(
                name: result.strategy.rawValue,
                points: result.loadProfile.enumerated().map { (Double($0.offset + 1), $0.element) }, markers: true,
                colour: SelectionStrategy.allCases.firstIndex(of: result.strategy)))
        }
        return plot.render()
    }
}
