/// The hop table in use, with the rule that a failed read never replaces a good table.
///
/// The shell reads the routing daemon periodically and hands the output here with the parser
/// for its format. A malformed output (a daemon restarting, a batctl version we do not know)
/// leaves the last good table in place and records the error for the logs and the local API.
///
/// A key that a good read had a hop count for, and a later good read no longer lists at all,
/// is a route gone: it is kept as unreachable (``HopTable/isUnreachable(_:)``) until a read
/// lists it again. The static table given at creation does not count as a read.
public struct HopTableCache: Sendable {
    /// The last good table (empty until the first good read, or the static one given).
    public private(set) var table: HopTable
    /// When ``table`` was last read successfully.
    public private(set) var updatedAt: Instant?
    /// The last read's error, if the last read failed.
    public private(set) var lastError: HopSourceError?
    /// When the last failed read happened.
    public private(set) var lastErrorAt: Instant?
    /// Failed reads since the last good one.
    public private(set) var consecutiveFailures = 0

    /// Creates a cache holding `initial` (e.g. the config file's static hop counts).
    public init(initial: HopTable = HopTable()) { table = initial }

    /// Parses `output` and, if it is well formed, makes it the table in use.
    ///
    /// - Parameters:
    ///   - output: the routing daemon's complete output.
    ///   - parser: the parser for its format.
    ///   - now: the current time.
    /// - Returns: the new table, or the error (the previous table stays in use).
    @discardableResult
    public mutating func refresh(
        with output: String, parser: some HopTableParser, now: Instant
    ) -> Result<HopTable, HopSourceError> {
        do {
            var parsed = try parser.parse(output)
            if updatedAt != nil {
                for (key, _) in table.sorted where parsed.hops(for: key) == nil { parsed.markUnreachable(key) }
                for key in table.unreachableKeys where parsed.hops(for: key) == nil { parsed.markUnreachable(key) }
            }
            table = parsed
            updatedAt = now
            lastError = nil
            consecutiveFailures = 0
            return .success(parsed)
        } catch {
            lastError = error
            lastErrorAt = now
            consecutiveFailures += 1
            return .failure(error)
        }
    }

    /// How old the table in use is, if it was ever read.
    public func age(now: Instant) -> Duration? { updatedAt.map { now - $0 } }
}
