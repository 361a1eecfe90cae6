import Foundation

/// `Docs/configuration.md`'s key tables, generated from ``ConfigSchema``.
///
/// The document marks each generated table with `<!-- config-keys: TABLE -->` and
/// `<!-- end config-keys -->` (and the flags table with `config-keys: flags`); everything between
/// two markers is replaced by ``updated(document:)``. A test checks that the committed document
/// is already up to date; `overlayd config-keys --update-doc Docs/configuration.md` rewrites it.
public enum ConfigDoc {
    /// The closing marker of a generated block.
    public static let endMarker = "<!-- end config-keys -->"

    /// The Markdown table of one config table's keys.
    ///
    /// - Parameter table: `node`, ..., `gateways.gateway` or `gateway`, or `flags` for the flags.
    /// - Returns: the table, header included, each line ending in a newline.
    public static func markdown(for table: String) -> String {
        if table == "flags" { return flagsMarkdown() }
        var lines = [
            "| key | type | default | range | flag | what it does, and why that default |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for spec in ConfigSchema.specs(in: table) {
            let flag = spec.flag.map { "`\($0)`" } ?? ""
            lines.append(
                "| `\(spec.name)` | \(spec.type.documentedType) | \(spec.defaultValue.documented) | \(spec.type.documentedRange) | \(flag) | \(spec.doc) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func flagsMarkdown() -> String {
        var lines = ["| flag | key | takes |", "| --- | --- | --- |", "| `--config PATH` | (the file itself) | a TOML file that must exist |"]
        for spec in ConfigSchema.specs where spec.flag != nil {
            let repeatable = if case .strings = spec.type { ", repeatable (the flags replace the whole list)" } else { "" }
            lines.append("| `\(spec.flag!)` | `\(spec.dotted)` | \(spec.type.documentedType)\(repeatable) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `document` with every generated block replaced by the table it names.
    ///
    /// - Parameter document: the text of `Docs/configuration.md`.
    /// - Returns: the text with up-to-date tables; equal to `document` when nothing changed.
    public static func updated(document: String) -> String {
        var out: [Substring] = []
        var skipping = false
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if skipping {
                guard line == endMarker else { continue }
                skipping = false
                out.append(line)
                continue
            }
            out.append(line)
            if let table = blockName(line) {
                out.append(contentsOf: markdown(for: table).dropLast().split(separator: "\n", omittingEmptySubsequences: false))
                skipping = true
            }
        }
        return out.joined(separator: "\n")
    }

    /// The table names marked in `document`, in order.
    public static func blocks(in document: String) -> [String] {
        document.split(separator: "\n").compactMap(blockName)
    }

    private static func blockName(_ line: Substring) -> String? {
        let prefix = "<!-- config-keys: ", suffix = " -->"
        guard line.hasPrefix(prefix), line.hasSuffix(suffix) else { return nil }
        return String(line.dropFirst(prefix.count).dropLast(suffix.count))
    }
}
