import OverlayAPI

/// The filters of `GET /v1/peers`, parsed and checked.
///
/// `state=alive,suspect` keeps members in any of the listed states (`serf members -status`);
/// `name=PATTERN` keeps members whose name contains `PATTERN`, or, when the pattern has a `*`,
/// whose whole name matches it as a glob (`gw-*`). Both comparisons ignore case. An absent filter
/// keeps every member.
public struct PeerFilter: Sendable, Equatable {
    /// The states to keep, or `nil` to keep every state.
    public var states: Set<String>?
    /// The name pattern, or `nil` to keep every name.
    public var namePattern: String?

    /// Creates a filter.
    ///
    /// - Parameters:
    ///   - states: the states to keep (lowercase, from ``PeerInfo/states``), or `nil` for all.
    ///   - namePattern: a substring, or a glob when it contains `*`; `nil` for all names.
    public init(states: Set<String>? = nil, namePattern: String? = nil) {
        self.states = states
        self.namePattern = namePattern
    }

    /// A filter that keeps every member.
    public static let all = PeerFilter()

    /// Parses the filter's query parameters.
    ///
    /// - Parameters:
    ///   - state: every value given for `state` (each may be a comma-separated list).
    ///   - name: every value given for `name`.
    /// - Returns: the filter.
    /// - Throws: ``APIRejection`` (400 `bad_request`) naming an unknown state, an empty list, or
    ///   a repeated `name`.
    public static func parse(state: [String], name: [String]) throws(APIRejection) -> PeerFilter {
        var filter = PeerFilter()
        if !state.isEmpty {
            var states = Set<String>()
            for value in state {
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let candidate = Self.trimmed(part).lowercased()
                    guard !candidate.isEmpty else {
                        throw .badRequest("the state filter '\(value)' has an empty entry; expected a comma-separated list of \(Self.stateList)")
                    }
                    guard PeerInfo.states.contains(candidate) else {
                        throw .badRequest("unknown state '\(part)' in the state filter; expected \(Self.stateList)")
                    }
                    states.insert(candidate)
                }
            }
            filter.states = states
        }
        if name.count > 1 {
            throw .badRequest("the name filter was given \(name.count) times; give one pattern (use '*' as a wildcard)")
        }
        if let pattern = name.first {
            guard !pattern.isEmpty else {
                throw .badRequest("the name filter is empty; give a substring or a glob such as 'gw-*'")
            }
            filter.namePattern = pattern
        }
        return filter
    }

    /// Whether a member passes the filter.
    ///
    /// - Parameter peer: the member's row.
    /// - Returns: `true` when it matches every filter given.
    public func matches(_ peer: PeerInfo) -> Bool {
        if let states, !states.contains(peer.state) { return false }
        if let namePattern, !Self.nameMatches(peer.name, pattern: namePattern) { return false }
        return true
    }

    /// Whether a name matches a pattern: a case-insensitive substring, or, when the pattern
    /// contains `*`, a case-insensitive glob over the whole name (`*` matches any run of
    /// characters, including none).
    ///
    /// - Parameters:
    ///   - name: the member's name.
    ///   - pattern: the substring or glob.
    /// - Returns: `true` on a match.
    public static func nameMatches(_ name: String, pattern: String) -> Bool {
        let name = name.lowercased()
        let pattern = pattern.lowercased()
        guard pattern.contains("*") else { return name.contains(pattern) }
        return globMatches(Array(name), Array(pattern))
    }

    /// Glob matching with `*` only, by the classic two-pointer walk that backtracks to the last
    /// star: linear in practice, and never worse than `name.count * pattern.count`.
    private static func globMatches(_ name: [Character], _ pattern: [Character]) -> Bool {
        var n = 0, p = 0
        var starAt: Int? = nil, resumeAt = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "*" {
                starAt = p
                resumeAt = n
                p += 1
            } else if p < pattern.count, pattern[p] == name[n] {
                n += 1
                p += 1
            } else if let star = starAt {
                p = star + 1
                resumeAt += 1
                n = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// The text without leading and trailing spaces and tabs.
    private static func trimmed(_ text: Substring) -> String {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }

    private static var stateList: String {
        PeerInfo.states.dropLast().joined(separator: ", ") + " or " + PeerInfo.states.last!
    }
}
