import Foundation

/// Reads babeld's local interface (a `dump`, or a `monitor` stream) into hop counts.
///
/// The shell connects to babeld's local socket (`-G`/`local-port`, or `local-path`), sends
/// `dump`, and hands over what comes back. The lines it reads (babeld 1.12's `local.c`; the
/// test fixtures are real output captured in the mesh lab, `Tests/OverlayCoreTests/Hops/Fixtures`):
///
/// - the greeting: `BABEL 1.0`, `version ...`, `host ...`, `my-id ...`, `ok`;
/// - `add interface NAME up true|false [ipv6 ADDR] [ipv4 ADDR]`, and kinds added by later
///   babeld versions: ignored;
/// - `add neighbour ID address ADDR if IF reach HEX ureach HEX rxcost N txcost N [rtt MS rttcost N] cost N`:
///   the neighbour's address is 1 hop away, and its `cost` is what one hop costs here;
/// - `add xroute PREFIX-SRC prefix PREFIX from SRC metric N`: a route this node originates,
///   0 hops (a gateway on this very node);
/// - `add route ID prefix PREFIX from SRC installed yes|no id ROUTER-ID metric N refmetric N via ADDR if IF`:
///   an installed, finite route (metric below 65535) gives hops to its prefix, to the bare
///   address of a host prefix (`/32`, `/128`), and to the announcing router ID;
/// - `change ...` lines replace the `add` with the same ID; `flush neighbour|route|xroute ID`
///   removes it (a `monitor` stream is the dump followed by these).
///
/// **Hops from costs.** Babel counts cost, not hops. A route's `refmetric` is its cost from
/// the next hop on, so the route is `1 + refmetric / c` hops long, where `c` is the cost of
/// one hop. `c` is learned from this very output: the median `cost` of the neighbours whose
/// link is up (babeld gives a loss-free wired link 96 and a wireless one 256, and more as
/// they lose packets), so a wired mesh and a radio mesh both read right without a setting;
/// a mesh whose links differ widely is read as if its far links cost what the near ones do.
/// With no neighbour in the output, ``fallbackHopCost`` (256) is used; ``hopCost``, when
/// set, replaces the learned cost. The quotient is rounded, and a route whose `refmetric` is
/// above 0 is at least 2 hops (it comes through a neighbour that is not its origin).
///
/// **Unreachable.** A prefix whose routes are all retracted (metric 65535) or flushed in this
/// output, with no finite route left, is recorded as unreachable in the table
/// (``HopTable/isUnreachable(_:)``): the selector leaves such a gateway out instead of taking
/// it as "hops unknown". (A retracted route's router ID is not its origin's, so only the
/// prefix and its address are marked.) A route that vanishes between two reads is marked by
/// ``HopTableCache``.
///
/// A `no ...` or `bad` reply, a line of another shape, or a route line without its fields is
/// refused.
public struct BabelParser: HopTableParser {
    /// ``HopSourceFormat/babel``.
    public var format: HopSourceFormat { .babel }

    /// The cost of one hop, if fixed by configuration; `nil` (the default) learns it from the
    /// neighbours' costs in each output.
    public var hopCost: Int?

    /// The cost of one hop when the output lists no neighbour to learn it from. Default 256,
    /// babeld's cost of a loss-free wireless link (community meshes are mostly radio).
    public var fallbackHopCost: Int

    /// Babel's infinite metric: a retracted route.
    public static let infinity = 0xFFFF

    /// Creates a parser.
    ///
    /// - Parameters:
    ///   - hopCost: a fixed cost of one hop; `nil` learns it from the neighbours.
    ///   - fallbackHopCost: the cost used when there is nothing to learn from.
    public init(hopCost: Int? = nil, fallbackHopCost: Int = 256) {
        self.hopCost = hopCost.map { max(1, $0) }
        self.fallbackHopCost = max(1, fallbackHopCost)
    }

    private struct Route {
        var keys: [String]
        var unreachableKeys: [String]
        var metric: Int
        var refmetric: Int
        var installed: Bool
    }

    /// Parses one `dump` (or `monitor` stream) of babeld's local interface.
    ///
    /// - Throws: ``HopSourceError`` naming the first line that does not have the documented
    ///   shape, or the output is empty, or babeld refused the command.
    public func parse(_ output: String) throws(HopSourceError) -> HopTable {
        guard !output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw failure(nil, "the output is empty")
        }
        var neighbours: [String: (address: String, cost: Int)] = [:]
        var xroutes: [String: [String]] = [:]
        var routes: [String: Route] = [:]
        var lost = Set<String>()  // keys of routes flushed or retracted in this output
        for line in HopText.lines(output) {
            let words = HopText.words(line.text)
            guard let verb = words.first else { continue }
            switch verb {
            case "BABEL", "version", "host", "my-id", "ok":
                continue
            case "no", "bad":
                throw failure(line.number, "babeld refused the command: \(HopText.quote(line.text))")
            case "add", "change", "flush":
                break
            default:
                throw failure(line.number, "expected a line of babeld's local interface, found \(HopText.quote(line.text))")
            }
            guard words.count >= 3 else {
                throw failure(line.number, "a \(verb) line needs a kind and an identifier, found \(HopText.quote(line.text))")
            }
            let kind = words[1], id = words[2]
            if verb == "flush" {
                switch kind {
                case "neighbour": neighbours[id] = nil
                case "xroute": xroutes[id] = nil
                case "route":
                    if let route = routes.removeValue(forKey: id) { lost.formUnion(route.unreachableKeys) }
                default: break
                }
                continue
            }
            guard ["neighbour", "xroute", "route"].contains(kind) else { continue }
            let fields = try pairs(Array(words.dropFirst(3)), line: line.number, text: line.text)
            switch kind {
            case "neighbour":
                guard let address = fields["address"] else { throw missing("address", kind, line.number) }
                let cost = fields["cost"].flatMap { Int($0) } ?? Self.infinity
                neighbours[id] = (address, cost)
            case "xroute":
                guard let prefix = fields["prefix"] else { throw missing("prefix", kind, line.number) }
                xroutes[id] = Self.keys(prefix: prefix, router: nil)
            case "route":
                guard let prefix = fields["prefix"] else { throw missing("prefix", kind, line.number) }
                guard let metricText = fields["metric"] else { throw missing("metric", kind, line.number) }
                guard let metric = Int(metricText), metric >= 0 else {
                    throw failure(line.number, "the route's metric \(HopText.quote(metricText)) is not a number")
                }
                guard let refText = fields["refmetric"], let refmetric = Int(refText), refmetric >= 0 else {
                    throw failure(line.number, "the route has no numeric refmetric")
                }
                guard let installed = fields["installed"], installed == "yes" || installed == "no" else {
                    throw failure(line.number, "the route's installed field is not yes or no")
                }
                let route = Route(
                    keys: Self.keys(prefix: prefix, router: fields["id"]), unreachableKeys: Self.keys(prefix: prefix, router: nil),
                    metric: metric, refmetric: refmetric, installed: installed == "yes")
                routes[id] = route
                if metric >= Self.infinity { lost.formUnion(route.unreachableKeys) }
            default:
                continue
            }
        }
        let cost = hopCost ?? Self.learnedHopCost(neighbours.values.map(\.cost)) ?? fallbackHopCost
        var table = HopTable()
        for id in neighbours.keys.sorted() {
            guard let neighbour = neighbours[id], neighbour.cost < Self.infinity else { continue }
            table.record(1, for: neighbour.address)
        }
        for id in xroutes.keys.sorted() {
            for key in xroutes[id] ?? [] { table.record(0, for: key) }
        }
        for id in routes.keys.sorted() {
            guard let route = routes[id], route.installed, route.metric < Self.infinity else { continue }
            let hops = Self.estimatedHops(refmetric: route.refmetric, hopCost: cost)
            for key in route.keys { table.record(hops, for: key) }
        }
        for key in lost.sorted() where table.hops(for: key) == nil { table.markUnreachable(key) }
        return table
    }

    /// The cost of one hop learned from the neighbours' link costs: the (lower) median of the
    /// finite ones, `nil` if there is none.
    public static func learnedHopCost(_ costs: [Int]) -> Int? {
        let finite = costs.filter { $0 > 0 && $0 < infinity }.sorted()
        guard !finite.isEmpty else { return nil }
        return finite[(finite.count - 1) / 2]
    }

    /// The hops of a route whose next hop advertised it with `refmetric`, when one hop costs
    /// `hopCost`: 1 for `refmetric` 0 (the next hop is its origin), else
    /// `1 + max(1, round(refmetric / hopCost))`.
    public static func estimatedHops(refmetric: Int, hopCost: Int) -> Int {
        guard refmetric > 0 else { return 1 }
        return 1 + max(1, Int((Double(refmetric) / Double(max(1, hopCost))).rounded()))
    }

    /// The table keys of a prefix: itself, its bare address for a host route, and the router ID.
    static func keys(prefix: String, router: String?) -> [String] {
        var keys = [prefix]
        if let slash = prefix.firstIndex(of: "/") {
            let length = prefix[prefix.index(after: slash)...]
            let address = String(prefix[..<slash])
            if (length == "32" && !address.contains(":")) || length == "128" { keys.append(address) }
        }
        if let router { keys.append(router) }
        return keys
    }

    private func pairs(_ words: [String], line: Int, text: String) throws(HopSourceError) -> [String: String] {
        guard words.count % 2 == 0 else {
            throw failure(line, "expected key-value pairs after the identifier, found \(HopText.quote(text))")
        }
        var fields: [String: String] = [:]
        for index in stride(from: 0, to: words.count, by: 2) { fields[words[index]] = words[index + 1] }
        return fields
    }

    private func missing(_ field: String, _ kind: String, _ line: Int) -> HopSourceError {
        failure(line, "the \(kind) line has no \(field)")
    }

    private func failure(_ line: Int?, _ problem: String) -> HopSourceError {
        HopSourceError(format: .babel, line: line, problem: problem)
    }
}
