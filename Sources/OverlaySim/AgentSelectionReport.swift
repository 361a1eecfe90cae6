import Foundation

/// The report of `overlay-sim rimo --through-agents`: the selector-only report's table, CSV
/// and plots (``SelectionReport``) over the agents' decisions, and what the agents' traffic
/// cost per node.
public struct AgentSelectionReport: Sendable {
    /// The latency, probe and load figures, pooled over seeds as in selector-only mode.
    public let selection: SelectionReport
    /// Per strategy, the runs of every seed (the traffic figures).
    public let runs: [SelectionStrategy: [AgentStrategyResult]]

    /// Pools `runs[s]`, each seed's result of every strategy.
    public init(scenario: SelectionScenario, seeds: [UInt64], runs: [[AgentStrategyResult]]) {
        selection = SelectionReport(scenario: scenario, seeds: seeds, runs: runs.map { $0.map(\.result) })
        var byStrategy: [SelectionStrategy: [AgentStrategyResult]] = [:]
        for run in runs.joined() { byStrategy[run.result.strategy, default: []].append(run) }
        self.runs = byStrategy
    }

    /// Mean over seeds of one traffic figure.
    private func mean(_ strategy: SelectionStrategy, _ figure: (AgentStrategyResult) -> Double) -> Double {
        Statistics.mean((runs[strategy] ?? []).map(figure))
    }

    /// Bytes per node per second by strategy: gateway gossip beside the rest (membership, the
    /// quorum view, headers and signatures), and datagrams.
    public func trafficTable() -> TextTable {
        var table = TextTable(header: [
            "strategy", "loss", "gateway gossip B/s/node", "membership B/s/node", "total B/s/node", "datagrams/s/node",
        ])
        for strategy in SelectionStrategy.allCases {
            guard let parts = runs[strategy], let first = parts.first else { continue }
            guard first.throughAgents else {
                table.append([strategy.rawValue, "-", "-", "-", "-", "- (oracle, no agent)"])
                continue
            }
            table.append([
                strategy.rawValue, Format.fixed(first.lossRate, 2), Format.fixed(mean(strategy, \.gatewayBytesPerNodePerSecond), 1),
                Format.fixed(mean(strategy, \.membershipBytesPerNodePerSecond), 1), Format.fixed(mean(strategy, \.totalBytesPerNodePerSecond), 1),
                Format.fixed(mean(strategy) { Double($0.datagramsSent) / Double(max(1, $0.nodes)) / max(1e-9, $0.countedSeconds) }, 2),
            ])
        }
        return table
    }

    /// The traffic figures as CSV, one row per strategy and seed.
    public func trafficCSV() -> CSVTable {
        var csv = CSVTable(header: [
            "scenario", "strategy", "seed_index", "loss", "nodes", "counted_s", "bytes_sent", "gateway_bytes",
            "gateway_bytes_per_node_s", "membership_bytes_per_node_s", "total_bytes_per_node_s", "datagrams_sent",
        ])
        for strategy in SelectionStrategy.allCases {
            for (index, run) in (runs[strategy] ?? []).enumerated() where run.throughAgents {
                csv.append([
                    selection.scenario.name, strategy.rawValue, "\(index)", Format.fixed(run.lossRate, 3), "\(run.nodes)",
                    Format.fixed(run.countedSeconds, 0), "\(run.bytesSent)", "\(run.gatewayBytes)",
                    Format.fixed(run.gatewayBytesPerNodePerSecond, 2), Format.fixed(run.membershipBytesPerNodePerSecond, 2),
                    Format.fixed(run.totalBytesPerNodePerSecond, 2), "\(run.datagramsSent)",
                ])
            }
        }
        return csv
    }
}
