import Foundation

/// Reads batman-adv's originator and gateway tables, as batctl prints them, into hop counts.
///
/// Accepted, detected from the output itself:
/// - `batctl meshif bat0 originators_json` (`oj`): a JSON array with one object per
///   (originator, neighbour) pair: `orig_address`, `neigh_address`, `hard_ifname`,
///   `last_seen_msecs`, `tq` (BATMAN_IV) or `throughput` (BATMAN_V, kbit/s), and `best: true`
///   on the route in use;
/// - `batctl meshif bat0 gateways_json` (`gwj`): the same with `router` (the next hop) instead
///   of `neigh_address`, and `bandwidth_down`/`bandwidth_up`;
/// - the text tables `batctl o` and `batctl gwl`, as a fallback for batctl versions without
///   JSON: an `[B.A.T.M.A.N. adv ...]` line, a column header, then rows such as
///   ` * 02:ba:de:af:fe:02    0.560s   (255) 02:ba:de:af:fe:02 [     wlan0]`.
///
/// batman-adv does not report hop counts, so they are derived: an originator that is its own
/// next hop is 1 hop away; otherwise BATMAN_IV's TQ, which loses the hop penalty
/// (`hop_penalty`, default 30 of 255) at every forwarding hop, gives
/// `1 + round(ln(tq / 255) / ln(1 - hop_penalty / 255))`, at least 2. Lossy links lower the TQ
/// too, so this can only overestimate: a far-looking gateway is one behind poor links, which
/// RIMO's weight may fairly penalise. BATMAN_V reports throughput, which says nothing of
/// distance: a multi-hop originator is then counted as 2 hops.
public struct BatmanAdvParser: HopTableParser {
    /// ``HopSourceFormat/batmanAdv``.
    public var format: HopSourceFormat { .batmanAdv }

    /// batman-adv's hop penalty (`batctl hop_penalty`), out of 255. Default 30, the kernel's.
    public var hopPenalty: Int

    /// Creates a parser for a mesh using `hopPenalty`.
    public init(hopPenalty: Int = 30) { self.hopPenalty = hopPenalty }

    /// Parses batctl's JSON or text output (originators or gateways).
    ///
    /// - Throws: ``HopSourceError`` if the output is empty, is neither JSON nor a batctl table,
    ///   or has an entry or row that does not have the documented shape.
    public func parse(_ output: String) throws(HopSourceError) -> HopTable {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw failure(nil, "the output is empty") }
        if trimmed.hasPrefix("[B.A.T.M.A.N.") { return try parseTable(trimmed) }
        if trimmed.hasPrefix("[") { return try parseJSON(trimmed) }
        let first = HopText.lines(trimmed).first?.text ?? trimmed
        throw failure(1, "it is neither batctl JSON nor a batctl table; it starts with \(HopText.quote(first))")
    }

    /// The hop count that a BATMAN_IV route with transmit quality `tq` (1-255) suggests,
    /// assuming perfect links: each forwarding hop multiplies it by `1 - hopPenalty / 255`.
    public func estimatedHops(tq: Int) -> Int {
        let keep = Double(255 - min(max(hopPenalty, 1), 254)) / 255
        let ratio = Double(min(max(tq, 1), 255)) / 255
        return 1 + Int((log(ratio) / log(keep)).rounded())
    }

    // MARK: Routes

    private struct Route {
        var originator: String
        var nextHop: String
        var tq: Int?
        var best: Bool
    }

    /// One hop count per originator: its best route (flagged, else the highest TQ).
    private func table(from routes: [Route]) -> HopTable {
        var byOriginator: [String: [Route]] = [:]
        for route in routes { byOriginator[route.originator.lowercased(), default: []].append(route) }
        var table = HopTable()
        for originator in byOriginator.keys.sorted() {
            let candidates = byOriginator[originator] ?? []
            guard let route = candidates.first(where: \.best) ?? candidates.max(by: { ($0.tq ?? 0) < ($1.tq ?? 0) })
            else { continue }
            if route.tq == 0 { continue }
            let hops: Int
            if route.nextHop.lowercased() == originator {
                hops = 1
            } else if let tq = route.tq {
                hops = max(2, estimatedHops(tq: tq))
            } else {
                hops = 2
            }
            table.record(hops, for: originator)
        }
        return table
    }

    // MARK: JSON

    private func parseJSON(_ text: String) throws(HopSourceError) -> HopTable {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw failure(nil, "it starts like batctl JSON but is not valid JSON")
        }
        guard let entries = parsed as? [Any] else { throw failure(nil, "the JSON is not an array of entries") }
        var routes: [Route] = []
        for (index, element) in entries.enumerated() {
            let number = index + 1
            guard let entry = element as? [String: Any] else { throw failure(nil, "entry \(number) is not a JSON object") }
            let originator = try mac(entry, "orig_address", entry: number)
            let nextHop: String
            if entry["neigh_address"] != nil {
                nextHop = try mac(entry, "neigh_address", entry: number)
            } else if entry["router"] != nil {
                nextHop = try mac(entry, "router", entry: number)
            } else {
                throw failure(nil, "entry \(number) has neither neigh_address (originators) nor router (gateways)")
            }
            var tq: Int?
            if let value = entry["tq"] {
                guard let quality = HopText.jsonInteger(value), (0...255).contains(quality) else {
                    throw failure(nil, "entry \(number)'s tq is not a number from 0 to 255")
                }
                tq = quality
            }
            if let value = entry["throughput"], HopText.jsonInteger(value) == nil {
                throw failure(nil, "entry \(number)'s throughput is not a number")
            }
            let best = (entry["best"] as? Bool) ?? false
            routes.append(Route(originator: originator, nextHop: nextHop, tq: tq, best: best))
        }
        return table(from: routes)
    }

    private func mac(_ entry: [String: Any], _ field: String, entry number: Int) throws(HopSourceError) -> String {
        guard let value = entry[field] else { throw failure(nil, "entry \(number) has no \(field)") }
        guard let text = value as? String, Self.isMAC(text) else {
            throw failure(nil, "entry \(number)'s \(field) is not a MAC address like 02:ba:de:af:fe:01")
        }
        return text.lowercased()
    }

    static func isMAC(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts.allSatisfy { $0.count == 2 && UInt8($0, radix: 16) != nil }
    }

    // MARK: Text tables

    private enum TableKind { case originators, gateways }

    private func parseTable(_ text: String) throws(HopSourceError) -> HopTable {
        let lines = HopText.lines(text)
        guard lines.count >= 2 else { throw failure(1, "the table has a version line but no column header") }
        let header = lines[1].text
        let kind: TableKind
        if header.contains("Originator") {
            kind = .originators
        } else if header.contains("Router") {
            kind = .gateways
        } else {
            throw failure(2, "expected the column header of `batctl o` or `batctl gwl`, found \(HopText.quote(header))")
        }
        let throughput = header.contains("throughput")
        var routes: [Route] = []
        for line in lines.dropFirst(2) where !line.text.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let route = row(line.text, kind: kind, throughput: throughput) else {
                let what = kind == .originators ? "an originator row" : "a gateway row"
                throw failure(line.number, "expected \(what), found \(HopText.quote(line.text))")
            }
            routes.append(route)
        }
        return table(from: routes)
    }

    /// Parses ` * ORIG LASTSEEN (VALUE) NEXTHOP [ IF]` or `* ORIG (VALUE) NEXTHOP [ IF]: BW`.
    private func row(_ line: String, kind: TableKind, throughput: Bool) -> Route? {
        var rest = Substring(line.trimmingCharacters(in: .whitespaces))
        let best = rest.hasPrefix("*")
        if best { rest = rest.dropFirst() }
        guard let open = rest.firstIndex(of: "("), let close = rest[open...].firstIndex(of: ")"),
              let bracket = rest[close...].firstIndex(of: "["), rest[bracket...].contains("]")
        else { return nil }
        let head = HopText.words(rest[..<open])
        let value = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
        let middle = HopText.words(rest[rest.index(after: close)..<bracket])
        switch kind {
        case .originators:
            guard head.count == 2, head[1].hasSuffix("s"), Double(head[1].dropLast()) != nil else { return nil }
        case .gateways:
            guard head.count == 1 else { return nil }
        }
        guard middle.count == 1 else { return nil }
        var tq: Int?
        if throughput {
            guard Double(value) != nil else { return nil }
        } else {
            guard let parsed = Int(value), (0...255).contains(parsed) else { return nil }
            tq = parsed
        }
        return Route(originator: head[0], nextHop: middle[0], tq: tq, best: best)
    }

    private func failure(_ line: Int?, _ problem: String) -> HopSourceError {
        HopSourceError(format: .batmanAdv, line: line, problem: problem)
    }
}
