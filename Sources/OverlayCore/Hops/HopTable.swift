import Foundation

/// This node's hop counts to other nodes of the mesh, as the routing daemon (or the config
/// file) reports them: the `HOPS(gateway)` of RIMO Algorithm 1, line 10.
///
/// Keys are the names the routing daemon uses (an originator MAC for batman-adv; a node name,
/// short ID, node ID or primary IP for bmx7; a router ID, prefix or address for babeld),
/// trimmed and lowercased. A ``Gateway`` is found by its ``Gateway/hopKey``.
public struct HopTable: Sendable, Equatable, CustomStringConvertible {
    private var entries: [String: Int] = [:]

    /// Creates a table, e.g. from the config file's static hop counts. Negative counts are
    /// dropped; a key given twice keeps the smaller count.
    public init(_ entries: [String: Int] = [:]) {
        for key in entries.keys.sorted() { record(entries[key] ?? 0, for: key) }
    }

    /// The hop count to `key`, if known.
    public func hops(for key: String) -> Int? { entries[Self.normalize(key)] }

    /// Records a hop count, keeping the smaller one if `key` is already known (two routes to
    /// the same place: the shorter one is the route used).
    public mutating func record(_ hops: Int, for key: String) {
        let key = Self.normalize(key)
        guard hops >= 0, !key.isEmpty else { return }
        entries[key] = min(hops, entries[key] ?? hops)
    }

    /// The table with `other`'s entries added (the smaller count wins).
    public func merging(_ other: HopTable) -> HopTable {
        var merged = self
        for (key, hops) in other.sorted { merged.record(hops, for: key) }
        return merged
    }

    /// The number of keys.
    public var count: Int { entries.count }

    /// Whether the table is empty.
    public var isEmpty: Bool { entries.isEmpty }

    /// Every entry, in key order.
    public var sorted: [(key: String, hops: Int)] { entries.keys.sorted().map { ($0, entries[$0] ?? 0) } }

    public var description: String { sorted.map { "\($0.key)=\($0.hops)" }.joined(separator: " ") }

    static func normalize(_ key: String) -> String { key.trimmingCharacters(in: .whitespaces).lowercased() }
}

/// The routing daemons whose tables ``HopTable`` parsers read.
public enum HopSourceFormat: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// batman-adv through batctl: `originators_json`/`gateways_json`, or the `o`/`gwl` tables.
    case batmanAdv = "batman-adv"
    /// bmx7's JSON originators list.
    case bmx7
    /// babeld's local interface (`dump` on its monitor socket).
    case babel = "babeld"

    public var description: String { rawValue }
}

/// Why a routing daemon's output could not be read: one sentence naming what is wrong.
///
/// ``HopTableCache`` keeps the last good table when a parse fails, and the shell logs this.
public struct HopSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The format being parsed.
    public let format: HopSourceFormat
    /// The 1-based line (or JSON entry) at fault, if one is.
    public let line: Int?
    /// What is wrong.
    public let problem: String

    /// Creates an error.
    public init(format: HopSourceFormat, line: Int? = nil, problem: String) {
        self.format = format
        self.line = line
        self.problem = problem
    }

    /// One sentence: "The babeld output could not be read: line 4 ...; the previous hop
    /// table is kept."
    public var description: String {
        let place = line.map { "line \($0): " } ?? ""
        return "The \(format) output could not be read (\(place)\(problem)); the previous hop table is kept."
    }
}

/// Reads one routing daemon's output into a ``HopTable``. Pure: no IO, no clock.
public protocol HopTableParser: Sendable {
    /// The format read.
    var format: HopSourceFormat { get }

    /// Parses the complete output of one query.
    ///
    /// - Throws: ``HopSourceError`` naming the first thing that is wrong.
    func parse(_ output: String) throws(HopSourceError) -> HopTable
}

/// Line and word splitting shared by the text parsers.
enum HopText {
    /// The lines of `text` (LF or CRLF), numbered from 1.
    static func lines(_ text: String) -> [(number: Int, text: String)] {
        let pieces: [Substring] = text.split(omittingEmptySubsequences: false, whereSeparator: { (character: Character) -> Bool in
            character.isNewline
        })
        var numbered: [(number: Int, text: String)] = []
        for (index, piece) in pieces.enumerated() { numbered.append((index + 1, String(piece))) }
        return numbered
    }

    /// The words of `text`, split on spaces and tabs.
    static func words<S: StringProtocol>(_ text: S) -> [String] {
        let pieces: [S.SubSequence] = text.split(whereSeparator: { (character: Character) -> Bool in
            character == " " || character == "\t"
        })
        return pieces.map { String($0) }
    }

    /// A JSON integer from `JSONSerialization`: `nil` for `true`/`false` (which Foundation
    /// also hands out as numbers), fractions, strings and absent values.
    static func jsonInteger(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let kind = String(cString: number.objCType)
        guard kind != "c", kind != "d", kind != "f" else { return nil }
        return number.intValue
    }

    /// `text` cut to `limit` characters with an ellipsis, for quoting input in an error.
    static func quote(_ text: some StringProtocol, limit: Int = 60) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        return "\"" + (trimmed.count > limit ? String(trimmed.prefix(limit)) + "…" : trimmed) + "\""
    }
}
