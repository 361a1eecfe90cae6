/// Percentiles and empirical distributions.
public enum Statistics {
    /// The `q`-quantile (0...1) of sorted values by linear interpolation between closest ranks
    /// (the "R-7" definition, as numpy and R default); 0 for no values.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(sorted.count - 1, lower + 1)
        let fraction = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }

    /// The mean; 0 for no values.
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}

/// Number formatting that does not depend on the locale (results files must be the same
/// byte for byte everywhere).
public enum Format {
    /// `value` with exactly `digits` decimals.
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let negative = value < 0 && scaled > 0
        let whole = Int64(scaled / scale)
        var text = String(whole)
        if digits > 0 {
            let fraction = Int64(scaled - Double(whole) * scale)
            let digitsText = String(fraction)
            text += "." + String(repeating: "0", count: digits - digitsText.count) + digitsText
        }
        return negative ? "-" + text : text
    }

    /// Seconds with three decimals and a unit: `0.123 s`.
    public static func seconds(_ value: Double) -> String { fixed(value, 3) + " s" }
}

/// A CSV file built row by row (RFC 4180 quoting).
public struct CSVTable: Sendable {
    private var lines: [String]

    /// Creates a table with a header row.
    public init(header: [String]) { lines = [Self.line(header)] }

    /// Appends one row.
    public mutating func append(_ fields: [String]) { lines.append(Self.line(fields)) }

    /// The file's text.
    public func render() -> String { lines.joined(separator: "\n") + "\n" }

    private static func line(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(",") || field.contains("\"") || field.contains("\n")
                ? "\"" + field.replacingAll("\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}

/// A plain-text table with aligned columns, for the terminal and for Markdown.
public struct TextTable: Sendable {
    private let header: [String]
    private var rows: [[String]] = []

    /// Creates a table with a header row.
    public init(header: [String]) { self.header = header }

    /// Appends one row.
    public mutating func append(_ fields: [String]) { rows.append(fields) }

    /// The table as aligned text.
    public func render() -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (index, field) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], field.count) } }
        func line(_ row: [String]) -> String {
            row.enumerated().map { index, field in
                index == 0 ? field + String(repeating: " ", count: widths[index] - field.count)
                    : String(repeating: " ", count: widths[index] - field.count) + field
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }

    /// The table as a GitHub Markdown table.
    public func markdown() -> String {
        let lines = [header] + [header.map { _ in "---" }] + rows
        return lines.map { "| " + $0.joined(separator: " | ") + " |" }.joined(separator: "\n")
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
