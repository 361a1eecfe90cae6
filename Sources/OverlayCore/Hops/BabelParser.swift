import Foundation

/// Reads babeld's local interface dump into hop counts.
///
/// The shell connects to babeld's local socket (`-G`/`local-port`, or `local-path`), sends
/// `dump`, and hands over everything up to the `ok` that ends the dump. The lines it reads:
///
/// - the greeting: `BABEL 1.0`, `version ...`, `host ...`, `my-id ...`, `ok`;
/// - `add interface NAME up true|false [ipv6 ADDR] [ipv4 ADDR]`, and kinds added by later
///   babeld versions: ignored;
/// - `add neighbour ID address ADDR if IF reach HEX ureach HEX rxcost N txcost N [rtt MS rttcost N] cost N`:
///   the neighbour's address is 1 hop away;
/// - `add xroute PREFIX-SRC prefix PREFIX from SRC metric N`: a route this node originates,
///   0 hops (a gateway on this very node);
/// - `add route ID prefix PREFIX from SRC installed yes|no id ROUTER-ID metric N refmetric N via ADDR if IF`:
///   an installed, finite route (metric below 65535) gives hops to its prefix, to the bare
///   address of a host prefix (`/32`, `/128`), and to the announcing router ID;
/// - `change ...` lines are read like `add`; `flush route ID` removes a route read earlier.
///
/// Babel counts cost, not hops, so hops are estimated: a route whose `refmetric` is 0 comes
/// straight from its origin, 1 hop; otherwise `1 + max(1, round(refmetric / nominalHopCost))`.
/// A `no ...` or `bad` reply, a line of another shape, or a route line without its fields is
/// refused.
public struct BabelParser: HopTableParser {
    /// ``HopSourceFormat/babel``.
    public var format: HopSourceFormat { .babel }

    /// The cost of one hop in babeld's metric. Default 256, babeld's default cost of a
    /// wireless link with no loss (a wired link costs 96).
    public var nominalHopCost: Int

    /// Babel's infinite metric: a retracted route.
    public static let infinity = 0xFFFF

    /// Creates a parser.
    public init(nominalHopCost: Int = 256) { self.nominalHopCost = max(1, nominalHopCost) }

    /// Parses one `dump` of babeld's local interface.
    ///
    /// - Throws: ``HopSourceError`` naming the first line that does not have the documented
    ///   shape, or the output is empty, or babeld refused the command.
    public func parse(_ output: String) throws(HopSourceError) -> HopTable {
        guard !output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw failure(nil, "the output is empty")
        }
        var routes: [String: (keys: [String], hops: Int)] = [:]
        var table = HopTable()
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
                if kind == "route" { routes[id] = nil }
                continue
            }
            guard ["neighbour", "xroute", "route"].contains(kind) else { continue }
            let fields = try pairs(Array(words.dropFirst(3)), line: line.number, text: line.text)
            switch kind {
            case "neighbour":
                guard let address = fields["address"] else { throw missing("address", kind, line.number) }
                table.record(1, for: address)
            case "xroute":
                guard let prefix = fields["prefix"] else { throw missing("prefix", kind, line.number) }
                for key in Self.keys(prefix: prefix, router: nil) { table.record(0, for: key) }
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
                routes[id] = nil
                guard installed == "yes", metric < Self.infinity else { continue }
                routes[id] = (Self.keys(prefix: prefix, router: fields["id"]), estimatedHops(refmetric: refmetric))
            default:
                continue
            }
        }
        for id in routes.keys.sorted() {
            guard let route = routes[id] else { continue }
            for key in route.keys { table.record(route.hops, for: key) }
        }
        return table
    }

    /// The hops suggested by a route whose next hop advertised it with `refmetric`.
    public func estimatedHops(refmetric: Int) -> Int {
        guard refmetric > 0 else { return 1 }
        return 1 + max(1, Int((Double(refmetric) / Double(nominalHopCost)).rounded()))
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
