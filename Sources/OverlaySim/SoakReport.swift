import Foundation

/// The tables, CSV and plot of a churn soak (`overlay-sim soak`).
public struct SoakReport {
    /// The soak's outcome.
    public let outcome: SoakOutcome

    /// Creates a report.
    public init(outcome: SoakOutcome) { self.outcome = outcome }

    private static func percent(_ value: Double) -> String { Format.fixed(value * 100, 3) + "%" }

    private static func spread(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "none" }
        let sorted = values.sorted()
        return "p50 \(Format.fixed(Statistics.percentile(sorted, 0.5), 1)) s, p95 \(Format.fixed(Statistics.percentile(sorted, 0.95), 1)) s, "
            + "max \(Format.fixed(sorted.last!, 1)) s (\(values.count))"
    }

    /// What the run did: the cloud, the churn and the cost.
    public func plan() -> TextTable {
        let o = outcome
        let s = o.settings
        var table = TextTable(header: ["nodes", "loss", "virtual time", "planned uptime", "crashes", "restarts", "power cuts", "view at warm-up", "commits", "events", "bytes/node/s"])
        let nodeSeconds = Double(s.nodeCount) * max(1, (o.measured + s.warmUp).seconds)
        table.append([
            "\(s.nodeCount)", Format.fixed(s.lossRate * 100, 0) + "%", Format.fixed(s.duration.seconds / 86_400, 2) + " d",
            Self.percent(o.plannedUptime), "\(o.crashes)", "\(o.restarts)", "\(o.powerCuts)", "\(o.viewAtWarmUp)",
            "\(o.commits)", "\(o.steps)", Format.fixed(Double(o.bytes) / nodeSeconds, 0),
        ])
        return table
    }

    /// The figures against their targets.
    public func figures() -> TextTable {
        let o = outcome
        let target = Format.fixed(o.settings.target.seconds / 60, 0) + " min"
        var table = TextTable(header: ["figure", "measured", "target", "met"])
        func met(_ ok: Bool) -> String { ok ? "yes" : "NO" }
        table.append([
            "majority side has quorum",
            "\(Self.percent(o.quorumFraction)) of \(Format.fixed(o.majorityTime.seconds / 3600, 1)) h with a majority running (\(Format.fixed(o.measured.seconds / 3600, 1)) h measured)",
            "at least 99.9%", met(o.quorumFraction >= 0.999),
        ])
        let longest = o.gaps.first.map { "; longest \(Format.fixed($0.length.seconds, 1)) s at \($0.start)" } ?? ""
        table.append(["stretches without quorum while a majority ran", "\(o.gaps.count)\(longest)", "", ""])
        table.append([
            "crash to removal", Self.spread(o.removals) + "; \(o.backBeforeRemoval) back before removal, \(o.removalsOverdueAtEnd) overdue at the end",
            "within \(target)", met(o.removalsMeetTarget),
        ])
        table.append([
            "restart to readmission",
            Self.spread(o.readmissions) + "; \(o.restartedAsMembers) restarted as members, \(o.downBeforeReadmission) down again first, \(o.readmissionsOverdueAtEnd) overdue at the end",
            "within \(target)", met(o.readmissionsMeetTarget),
        ])
        table.append(["false removals", "\(o.falseRemovals.count) (\(o.removalsJustAfterRestart) removed within \(target) of their restart)", "none", met(o.falseRemovals.isEmpty)])
        let samples = o.series
        let offBy = samples.map { abs($0.viewSize - $0.running) }
        let equal = samples.isEmpty ? 0 : Double(offBy.filter { $0 == 0 }.count) / Double(samples.count)
        table.append([
            "view size against running nodes",
            "equal at \(Self.percent(equal)) of minutes; mean difference \(Format.fixed(Statistics.mean(offBy.map(Double.init)), 2)), max \(offBy.max() ?? 0)",
            "", "",
        ])
        table.append(["invariants after every step", o.violation.map { "VIOLATED: \($0)" } ?? "all held", "all hold", met(o.violation == nil)])
        return table
    }

    /// The time series, one row per sample.
    public func csv() -> CSVTable {
        var table = CSVTable(header: ["time_s", "view_size", "running", "running_members", "quorate"])
        for sample in outcome.series {
            table.append(["\(Int(sample.time.seconds))", "\(sample.viewSize)", "\(sample.running)", "\(sample.runningMembers)", "\(sample.quorate)"])
        }
        return table
    }

    /// View size and running nodes over the run.
    public func plot() -> String {
        var plot = SVGPlot(title: "Churn soak: view size against running nodes (seed \(outcome.seed))", xLabel: "virtual time (days)", yLabel: "nodes")
        let samples = outcome.series
        plot.series = [
            .init(name: "view size", points: samples.map { ($0.time.seconds / 86_400, Double($0.viewSize)) }),
            .init(name: "running nodes", points: samples.map { ($0.time.seconds / 86_400, Double($0.running)) }, dashed: true),
            .init(name: "members reporting quorum", points: samples.map { ($0.time.seconds / 86_400, Double($0.quorate)) }),
        ]
        plot.yRange = 0...Double(outcome.settings.nodeCount + 1)
        plot.legendAtBottomRight = false
        return plot.render()
    }
}
