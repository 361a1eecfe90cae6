import Foundation

/// This node's hop counts to other nodes of the mesh, as the routing daemon (or the config
/// file) reports them: the `HOPS(gateway)` of RIMO Algorithm 1, line 10.
///
/// Keys are the names the routing daemon uses (an originator MAC for batman-adv; a node name,
/// short ID, node ID or primary IP for bmx7; a router ID, prefix or address for babeld),
/// trimmed and lowercased. A ``Gateway`` is found by its ``Gateway/hopKey``.
///
/// Besides hop counts, a table knows the keys the routing daemon reports **unreachable** (a
/// retracted route, or a route that went away): a key with a hop count is never unreachable,
/// and a key the daemon never mentioned is neither (its hops are unknown).
public struct HopTable: Sendable, Equatable, CustomStringConvertible {
    private var entries: [String: Int] = [:]
    private var unreachable: Set<String> = []

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

    /// Records that the routing daemon reports `key` unreachable. A hop count for the same key
    /// (recorded before or after) wins: some route still reaches it.
    public mutating func markUnreachable(_ key: String) {
        let key = Self.normalize(key)
        guard !key.isEmpty else { return }
        unreachable.insert(key)
    }

    /// Whether the routing daemon reports `key` unreachable (and no route to it is known).
    public func isUnreachable(_ key: String) -> Bool {
        let key = Self.normalize(key)
        return entries[key] == nil && unreachable.contains(key)
    }

    /// The keys reported unreachable, in order.
    public var unreachableKeys: [String] { unreachable.filter { entries[$0] == nil }.sorted() }

    /// The table with `other`'s entries added (the smaller count wins) and its unreachable keys.
    public func merging(_ other: HopTable) -> HopTable {
        var merged = self
        for (key, hops) in other.sorted { merged.record(hops, for: key) }
        for key in other.unreachableKeys { merged.markUnreachable(key) }
        return merged
    }

    /// The number of keys.
    public var count: Int { entries.count }

    /// Whether the table is empty.
    public var isEmpty: Bool { entries.isEmpty }

    /// Every entry, in key order.
    public var sorted: [(key: String, hops: Int)] { entries.keys.sorted().map { ($0, entries[$0] ?? 0) } }

    public var description: String {
        (sorted.map { "\($0.key)=\($0.hops)" } + unreachableKeys.map { "\($0)=unreachable" }).joined(separator: " ")
    }

    public static func == (lhs: HopTable, rhs: HopTable) -> Bool {
        lhs.entries == rhs.entries && lhs.unreachableKeys == rhs.unreachableKeys
    }

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
