import Foundation

/// A line plot written as SVG by hand: axes with ticks, labelled series as polylines, a
/// legend. Enough for ECDFs (the RIMO paper's Figure 4) and for the scale curves; the text is
/// the same byte for byte for the same data.
public struct SVGPlot: Sendable {
    /// One line of the plot.
    public struct Series: Sendable {
        /// The legend's label.
        public var name: String
        /// The points, in drawing order.
        public var points: [(x: Double, y: Double)]
        /// Drawn dashed (bounds, references).
        public var dashed: Bool
        /// Draw a dot at each point (sparse series).
        public var markers: Bool
        /// The palette entry to draw with; by default the series' position, so that a strategy
        /// keeps its colour across plots that leave some series out.
        public var colour: Int?

        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, markers: Bool = false, colour: Int? = nil) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.markers = markers
            self.colour = colour
        }
    }

    /// The title above the plot.
    public var title: String
    /// The x axis label.
    public var xLabel: String
    /// The y axis label.
    public var yLabel: String
    /// A logarithmic x axis (cloud sizes).
    public var logX = false
    /// The x range; by default the data's.
    public var xRange: ClosedRange<Double>?
    /// The y range; by default from 0 (or the data's minimum if negative) to the data's maximum.
    public var yRange: ClosedRange<Double>?
    /// The series, drawn in order with the palette's colours.
    public var series: [Series] = []
    /// Where the legend goes.
    public var legendAtBottomRight = true
    /// Horizontal reference lines (a percentile of interest), drawn thin and grey with a label.
    public var horizontalReferences: [(y: Double, label: String)] = []

    /// Colours distinguishable in print and by most colour-blind readers (Okabe-Ito).
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// Creates an empty plot.
    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// The step points of the empirical CDF of `sorted` values, thinned to at most
    /// `maxPoints` quantiles so that a plot of a million samples stays small.
    public static func ecdf(_ sorted: [Double], maxPoints: Int = 400) -> [(x: Double, y: Double)] {
        guard !sorted.isEmpty else { return [] }
        let n = sorted.count
        var points: [(x: Double, y: Double)] = [(sorted[0], 0)]
        let steps = min(n, maxPoints)
        for step in 1...steps {
            let rank = Int((Double(step) / Double(steps) * Double(n)).rounded(.up)) - 1
            let x = sorted[min(n - 1, max(0, rank))]
            let y = Double(rank + 1) / Double(n)
            if let last = points.last, last.x != x { points.append((x, last.y)) }
            points.append((x, y))
        }
        return points
    }

    /// The SVG document.
    public func render(width: Int = 760, height: Int = 480) -> String {
        let left = 74.0, right = 20.0, top = 40.0, bottom = 58.0
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
        var xLow = xRange?.lowerBound ?? (all.map(\.x).min() ?? 0)
        var xHigh = xRange?.upperBound ?? (all.map(\.x).max() ?? 1)
        var yLow = yRange?.lowerBound ?? min(0, all.map(\.y).min() ?? 0)
        var yHigh = yRange?.upperBound ?? (all.map(\.y).max() ?? 1)
        if xHigh <= xLow { xHigh = xLow + 1 }
        if yHigh <= yLow { yHigh = yLow + 1 }
        let xTicks = logX ? Self.logTicks(xLow, xHigh) : Self.niceTicks(xLow, xHigh)
        let yTicks = yRange == nil ? Self.niceTicks(yLow, yHigh) : Self.niceTicks(yLow, yHigh)
        if !logX, xRange == nil { xLow = min(xLow, xTicks.first ?? xLow); xHigh = max(xHigh, xTicks.last ?? xHigh) }
        if yRange == nil { yLow = min(yLow, yTicks.first ?? yLow); yHigh = max(yHigh, yTicks.last ?? yHigh) }
        func px(_ x: Double) -> Double {
            let fraction = logX ? (log10(x) - log10(xLow)) / (log10(xHigh) - log10(xLow)) : (x - xLow) / (xHigh - xLow)
            return left + max(-0.02, min(1.02, fraction)) * plotWidth
        }
        func py(_ y: Double) -> Double {
            top + plotHeight - max(-0.02, min(1.02, (y - yLow) / (yHigh - yLow))) * plotHeight
        }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(n(Double(width) / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(Self.escape(title))</text>

            """
        // Grid and ticks.
        for tick in xTicks where tick >= xLow && tick <= xHigh {
            let x = px(tick)
            svg += "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(top + plotHeight))\" stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(n(x))\" y=\"\(n(top + plotHeight + 18))\" text-anchor=\"middle\">\(Self.label(tick))</text>\n"
        }
        for tick in yTicks where tick >= yLow && tick <= yHigh {
            let y = py(tick)
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y))\" stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(n(left - 8))\" y=\"\(n(y + 4))\" text-anchor=\"end\">\(Self.label(tick))</text>\n"
        }
        svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotWidth))\" height=\"\(n(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<text x=\"\(n(left + plotWidth / 2))\" y=\"\(n(Double(height) - 14))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(18 \(n(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for reference in horizontalReferences where reference.y >= yLow && reference.y <= yHigh {
            let y = py(reference.y)
            svg += "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotWidth))\" y2=\"\(n(y))\" stroke=\"#888\" stroke-dasharray=\"2 3\"/>\n"
            svg += "<text x=\"\(n(left + 6))\" y=\"\(n(y - 4))\" fill=\"#666\" font-size=\"11\">\(Self.escape(reference.label))</text>\n"
        }
        // Series.
        for (index, line) in series.enumerated() {
            let colour = Self.palette[(line.colour ?? index) % Self.palette.count]
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
            guard !points.isEmpty else { continue }
            let path = points.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash) points=\"\(path)\"/>\n"
            if line.markers {
                for point in points {
                    svg += "<circle cx=\"\(n(px(point.x)))\" cy=\"\(n(py(point.y)))\" r=\"3\" fill=\"\(colour)\"/>\n"
                }
            }
        }
        // Legend.
        let rowHeight = 18.0
        let legendWidth = 22.0 + Double(series.map(\.name.count).max() ?? 0) * 7.0 + 16
        let legendHeight = rowHeight * Double(series.count) + 8
        let lx = legendAtBottomRight ? left + plotWidth - legendWidth - 8 : left + 8
        let ly = legendAtBottomRight ? top + plotHeight - legendHeight - 8 : top + 8
        svg += "<rect x=\"\(n(lx))\" y=\"\(n(ly))\" width=\"\(n(legendWidth))\" height=\"\(n(legendHeight))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n"
        for (index, line) in series.enumerated() {
            let colour = Self.palette[(line.colour ?? index) % Self.palette.count]
            let y = ly + 4 + rowHeight * (Double(index) + 0.5)
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<line x1=\"\(n(lx + 6))\" y1=\"\(n(y))\" x2=\"\(n(lx + 26))\" y2=\"\(n(y))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
            svg += "<text x=\"\(n(lx + 32))\" y=\"\(n(y + 4))\">\(Self.escape(line.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func n(_ value: Double) -> String { Format.fixed(value, 1) }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Ticks at 1, 2 or 5 times a power of ten, about six of them.
    static func niceTicks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / 6
        let power = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? 10 * power
        var ticks: [Double] = []
        var value = (low / step).rounded(.down) * step
        while value <= high + step * 0.5 && ticks.count < 40 {
            ticks.append(abs(value) < step * 1e-9 ? 0 : value)
            value += step
        }
        return ticks
    }

    /// Ticks at 1, 2 and 5 times each power of ten in range.
    static func logTicks(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low else { return [max(low, 1)] }
        var ticks: [Double] = []
        var power = pow(10, log10(low).rounded(.down))
        while power <= high {
            for factor in [1.0, 2, 5] where power * factor >= low * 0.999 && power * factor <= high * 1.001 {
                ticks.append(power * factor)
            }
            power *= 10
        }
        return ticks
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e9 { return String(Int64(value)) }
        if abs(value) >= 0.1 { return Format.fixed(value, 2).trimmingTrailingZeros() }
        return Format.fixed(value, 3).trimmingTrailingZeros()
    }
}

extension String {
    func trimmingTrailingZeros() -> String {
        guard contains(".") else { return self }
        var text = self
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
