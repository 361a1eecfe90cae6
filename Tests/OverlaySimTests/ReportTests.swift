import Foundation
import Testing
@testable import OverlaySim

/// Formatting that must not depend on the machine: results files are compared byte for byte.
@Suite struct ReportTests {
    @Test func fixedFormatting() {
        #expect(Format.fixed(0.1234, 3) == "0.123")
        #expect(Format.fixed(2, 2) == "2.00")
        #expect(Format.fixed(-0.5, 1) == "-0.5")
        #expect(Format.fixed(-0.0001, 2) == "0.00")
        #expect(Format.fixed(1234.5678, 0) == "1235")
        #expect(Format.fixed(.infinity, 1) == "inf")
    }

    @Test func percentilesInterpolate() {
        #expect(Statistics.percentile([1, 2, 3, 4, 5], 0.5) == 3)
        #expect(Statistics.percentile([1, 2], 0.5) == 1.5)
        #expect(Statistics.percentile([], 0.8) == 0)
        #expect(Statistics.percentile([7], 0.95) == 7)
    }

    @Test func csvQuotesWhatNeedsIt() {
        var csv = CSVTable(header: ["a", "b"])
        csv.append(["x,y", "say \"hi\""])
        #expect(csv.render() == "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n")
    }

    @Test func ecdfEndsAtOneAndNeverDecreases() {
        let values = (1...1000).map { Double($0) / 10 }
        let points = SVGPlot.ecdf(values, maxPoints: 50)
        #expect(points.last?.y == 1)
        #expect(zip(points, points.dropFirst()).allSatisfy { $0.y <= $1.y && $0.x <= $1.x })
        #expect(points.count <= 101)
    }

    @Test func plotsAreDeterministicSVG() {
        var plot = SVGPlot(title: "a < b & c", xLabel: "x", yLabel: "y")
        plot.logX = true
        plot.series = [.init(name: "one", points: [(1, 1), (10, 2), (100, 3)], markers: true), .init(name: "bound", points: [(1, 0), (100, 4)], dashed: true)]
        let svg = plot.render()
        #expect(svg == plot.render())
        #expect(svg.contains("a &lt; b &amp; c"))
        #expect(svg.contains("stroke-dasharray"))
        #expect(SVGPlot.logTicks(10, 10_000) == [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000])
        #expect(SVGPlot.niceTicks(0, 1) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
    }
}
