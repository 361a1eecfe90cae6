/// Refuses, before TOMLKit sees it, the one kind of malformed table header that makes its
/// parser (toml++) abort the process instead of reporting an error: `[` or `[[` followed by a
/// character that can start neither a bare key nor a quoted one (`[é]`, `[=]`, `[ \u{1}]`).
/// Found by the `config` fuzz target (Docs/fuzzing.md); toml++ asserts in `parse_key` there,
/// and the assertion is compiled in. Every other header, good or bad, is left to the parser,
/// which reports it with its own line and column.
enum TableHeaderCheck {
    /// Checks every line that opens a table header (outside multi-line strings).
    ///
    /// - Throws: ``ConfigError`` (syntax) naming the line, the column and the character.
    static func check(_ text: String, source: String) throws {
        var multiline: String?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            if multiline == nil, let problem = problem(in: line, isLast: index == lines.count - 1) {
                throw ConfigError.syntax(
                    source: source, line: index + 1, column: problem.column,
                    detail: "a table name must start with a letter, a digit, _, - or a quote, not \(problem.shown)")
            }
            multiline = stringState(after: line, from: multiline)
        }
    }

    /// The first character of the header's name, when it cannot start a key (a line break
    /// cannot either; the end of the document the parser reports itself).
    private static func problem(in line: Substring, isLast: Bool) -> (column: Int, shown: String)? {
        let scalars = Array(line.unicodeScalars)
        var position = 0
        while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" { position += 1 }
        guard position < scalars.count, scalars[position] == "[" else { return nil }
        position += 1
        if position < scalars.count, scalars[position] == "[" { position += 1 }
        while position < scalars.count, scalars[position] == " " || scalars[position] == "\t" { position += 1 }
        guard position < scalars.count else { return isLast ? nil : (position + 1, "the end of the line") }
        let first = scalars[position]
        let startsKey = first.isASCII && (first.properties.isAlphabetic || ("0"..."9").contains(first) || "_-\"']".unicodeScalars.contains(first))
        guard !startsKey else { return nil }
        let shown = first.isASCII && first.value >= 0x20 && first.value < 0x7F
            ? "'\(Character(first))'" : "U+\(String(first.value, radix: 16, uppercase: true))"
        return (position + 1, shown)
    }

    /// Whether a multi-line string (`"""` or `'''`) is open after `line`: the delimiter, or nil.
    private static func stringState(after line: Substring, from open: String?) -> String? {
        var open = open
        var rest = line[...]
        while !rest.isEmpty {
            if let delimiter = open {
                guard let end = rest.range(of: delimiter) else { return delimiter }
                rest = rest[end.upperBound...]
                open = nil
            } else {
                let double = rest.range(of: "\"\"\"")
                let single = rest.range(of: "'''")
                let comment = rest.firstIndex(of: "#")
                guard let start = [double, single].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else { return nil }
                if let comment, comment < start.lowerBound { return nil }
                open = String(rest[start])
                rest = rest[start.upperBound...]
            }
        }
        return open
    }
}
