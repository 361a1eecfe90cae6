import Foundation

/// One measured figure of the benchmark suite, with the target it is held against.
struct Figure: Sendable {
    /// A stable key, used to find the same figure in the previous run's file.
    var key: String
    /// What was measured, for the reader.
    var label: String
    /// The measured value.
    var value: Double
    /// Its unit (`µs`, `ms`, `MB`, `%`, ...).
    var unit: String
    /// The target in words (`≥ 80%`, `< 30 MB`), or empty when the figure is context only.
    var target: String = ""
    /// Whether a larger value is better (decides the sign shown for a change).
    var higherIsBetter = false
    /// Whether a change is neither better nor worse (a count that describes the traffic).
    var neutral = false
}

/// The figures of one run: printed as a table beside the previous run's, and saved for the next.
///
/// The previous run's figures live in a small JSON file (`key: value`), by default under
/// `.build/`, so they never reach git; `--baseline PATH` names another file.
struct FigureReport {
    private(set) var figures: [Figure] = []

    /// Adds a figure and prints it at once, so a long run shows its progress.
    mutating func add(_ figure: Figure) {
        figures.append(figure)
        say(String(format: "  %@: %@ %@", figure.label, Self.format(figure.value), figure.unit))
    }

    /// The previous run's figures, or an empty dictionary when there is no readable file.
    static func loadBaseline(_ path: String) -> [String: Double] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Double] else { return [:] }
        return object
    }

    /// Writes this run's figures for the next run to compare with.
    func save(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let object = Dictionary(figures.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The Markdown table of every figure, its target, the previous run's value and the change.
    func table(previous: [String: Double]) -> String {
        var lines = [
            "| figure | value | target | previous run | change |",
            "| --- | ---: | --- | ---: | ---: |",
        ]
        for figure in figures {
            let value = "\(Self.format(figure.value)) \(figure.unit)"
            var before = "-"
            var change = "-"
            if let old = previous[figure.key] {
                before = "\(Self.format(old)) \(figure.unit)"
                if old != 0 {
                    let percent = 100 * (figure.value - old) / abs(old)
                    let better = figure.higherIsBetter ? percent > 0 : percent < 0
                    let verdict = figure.neutral || abs(percent) < 0.05 ? "" : better ? " (better)" : " (worse)"
                    change = String(format: "%+.1f%%", percent) + verdict
                }
            }
            lines.append("| \(figure.label) | \(value) | \(figure.target) | \(before) | \(change) |")
        }
        return lines.joined(separator: "\n")
    }

    /// Three significant digits for small values, none after the point for large ones.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) >= 1 { return String(format: "%.0f", value) }
        if abs(value) >= 100 { return String(format: "%.0f", value) }
        if abs(value) >= 10 { return String(format: "%.1f", value) }
        if abs(value) >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.3g", value)
    }
}

/// The median of some measurements (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Seconds of wall time spent in `body`.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// CPU seconds (user and system) this process has used so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Prints a line at once, even when standard output is a file (a long run shows its progress).
func say(_ line: String) {
    print(line)
    fflush(nil)
}
