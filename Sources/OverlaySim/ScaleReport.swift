/// Tables, CSV and plots of a scale sweep.
public struct ScaleReport: Sendable {
    /// The measured points, in the order measured.
    public let points: [ScalePoint]

    /// Creates a report.
    public init(points: [ScalePoint]) { self.points = points }

    static func loss(_ rate: Double) -> String { Format.fixed(rate * 100, 0) + "%" }

    private static func rounds(_ values: [Double]) -> (median: Double, max: Double) {
        let sorted = values.sorted()
        return (Statistics.percentile(sorted, 0.5), sorted.last ?? .nan)
    }

    /// The terminal (and Markdown) table.
    public func table() -> TextTable {
        var table = TextTable(header: [
            "nodes", "loss", "rounds to 99% (median/max)", "bound 2·log2 N", "bytes/node/s", "datagrams/node/s",
            "detection everywhere (s, each crash)", "false failures/node-hour",
        ])
        for point in points {
            let (median, maximum) = Self.rounds(point.disseminationRounds)
            let detections = point.detectionSeconds.enumerated().map { index, seconds in
                seconds.map { Format.fixed($0, 1) }
                    ?? "not all (\(index < point.detectionLaggards.count ? point.detectionLaggards[index] : "?") left)"
            }.joined(separator: ", ")
            table.append([
                "\(point.nodes)", Self.loss(point.lossRate), "\(Format.fixed(median, 1)) / \(Format.fixed(maximum, 1))",
                Format.fixed(point.disseminationBound, 1), Format.fixed(point.bytesPerNodePerSecond, 0),
                Format.fixed(point.datagramsPerNodePerSecond, 2), detections,
                Format.fixed(point.falseFailuresPerNodeHour, 3) + " (\(point.falseFailures) in \(Format.fixed(point.nodeHours, 1)) h)",
            ])
        }
        return table
    }

    /// One row per point.
    public func csv() -> CSVTable {
        var csv = CSVTable(header: [
            "nodes", "loss", "rounds_median", "rounds_max", "rounds_bound", "bytes_per_node_s", "datagrams_per_node_s",
            "detection_s_max", "detections_complete", "false_failures", "node_hours", "false_failures_per_node_hour", "measured_s",
        ])
        for point in points {
            let (median, maximum) = Self.rounds(point.disseminationRounds)
            let detections = point.detectionSeconds.compactMap { $0 }
            csv.append([
                "\(point.nodes)", Format.fixed(point.lossRate, 2), Format.fixed(median, 2), Format.fixed(maximum, 2),
                Format.fixed(point.disseminationBound, 2), Format.fixed(point.bytesPerNodePerSecond, 1),
                Format.fixed(point.datagramsPerNodePerSecond, 3), Format.fixed(detections.max() ?? .nan, 2),
                "\(detections.count)/\(point.detectionSeconds.count)", "\(point.falseFailures)", Format.fixed(point.nodeHours, 3),
                Format.fixed(point.falseFailuresPerNodeHour, 4), Format.fixed(point.measuredSeconds, 1),
            ])
        }
        return csv
    }

    private var lossRates: [Double] { Array(Set(points.map(\.lossRate))).sorted() }

    private func curve(_ rate: Double, _ value: (ScalePoint) -> Double) -> [(x: Double, y: Double)] {
        points.filter { $0.lossRate == rate }.sorted { $0.nodes < $1.nodes }.map { (Double($0.nodes), value($0)) }
    }

    /// Gossip intervals to 99% against cloud size, per loss rate, with the 2·log2 N bound.
    public func plotDissemination() -> String {
        var plot = SVGPlot(title: "Dissemination: gossip intervals until 99% of nodes hold an item", xLabel: "nodes (log scale)", yLabel: "gossip intervals (200 ms) to 99%, worst of 3 items")
        plot.logX = true
        plot.legendAtBottomRight = false
        for rate in lossRates {
            plot.series.append(.init(name: "loss \(Self.loss(rate))", points: curve(rate) { Self.rounds($0.disseminationRounds).max }, markers: true))
        }
        let sizes = Array(Set(points.map(\.nodes))).sorted()
        plot.series.append(.init(name: "bound 2·log2 N", points: sizes.map { (Double($0), 2 * log2(Double($0))) }, dashed: true))
        return plot.render()
    }

    /// Bytes per node per second against cloud size, per loss rate.
    public func plotBytes() -> String {
        var plot = SVGPlot(title: "Protocol traffic per node (UDP payload)", xLabel: "nodes (log scale)", yLabel: "bytes per node per second")
        plot.logX = true
        plot.legendAtBottomRight = false
        for rate in lossRates {
            plot.series.append(.init(name: "loss \(Self.loss(rate))", points: curve(rate) { $0.bytesPerNodePerSecond }, markers: true))
        }
        return plot.render()
    }

    /// The table of federation runs.
    public static func federationTable(_ points: [FederationPoint]) -> TextTable {
        var table = TextTable(header: [
            "agents", "clouds x size", "loss", "join (virtual)", "rounds to 99% (per cloud)", "bound 2·log2 size", "bytes/node/s",
            "datagrams/node/s", "detection in cloud (s)", "false failures/node-hour", "events",
        ])
        for point in points {
            table.append([
                "\(point.agents)", "\(point.clouds) x \(point.cloudSize)", loss(point.lossRate),
                point.bootstrap.map { Format.seconds($0.seconds) } ?? "not joined",
                point.disseminationRounds.map { Format.fixed($0, 1) }.joined(separator: ", "),
                Format.fixed(2 * log2(Double(point.cloudSize)), 1), Format.fixed(point.bytesPerNodePerSecond, 0),
                Format.fixed(point.datagramsPerNodePerSecond, 2),
                point.detectionSeconds.map { $0.map { Format.fixed($0, 1) } ?? "not all" }.joined(separator: ", "),
                Format.fixed(point.nodeHours > 0 ? Double(point.falseFailures) / point.nodeHours : 0, 3) + " (\(point.falseFailures) in \(Format.fixed(point.nodeHours, 0)) h)",
                "\(point.events)",
            ])
        }
        return table
    }

    /// The CSV of federation runs.
    public static func federationCSV(_ points: [FederationPoint]) -> CSVTable {
        var csv = CSVTable(header: [
            "agents", "clouds", "cloud_size", "loss", "join_s", "rounds_max", "bytes_per_node_s", "datagrams_per_node_s",
            "detection_s_max", "false_failures", "node_hours", "events", "trace",
        ])
        for point in points {
            csv.append([
                "\(point.agents)", "\(point.clouds)", "\(point.cloudSize)", Format.fixed(point.lossRate, 2),
                point.bootstrap.map { Format.fixed($0.seconds, 3) } ?? "", Format.fixed(point.disseminationRounds.max() ?? .nan, 2),
                Format.fixed(point.bytesPerNodePerSecond, 1), Format.fixed(point.datagramsPerNodePerSecond, 3),
                Format.fixed(point.detectionSeconds.compactMap { $0 }.max() ?? .nan, 2), "\(point.falseFailures)",
                Format.fixed(point.nodeHours, 2), "\(point.events)", point.trace.description,
            ])
        }
        return csv
    }

    /// Time until a crashed node is failed everywhere, against cloud size, per loss rate.
    public func plotDetection() -> String {
        var plot = SVGPlot(title: "Failure detection: crash until failed at every node", xLabel: "nodes (log scale)", yLabel: "seconds (worst of 2 crashes)")
        plot.logX = true
        plot.legendAtBottomRight = false
        for rate in lossRates {
            plot.series.append(.init(name: "loss \(Self.loss(rate))", points: curve(rate) { $0.detectionSeconds.compactMap { $0 }.max() ?? .nan }, markers: true))
        }
        return plot.render()
    }
}

import Foundation
