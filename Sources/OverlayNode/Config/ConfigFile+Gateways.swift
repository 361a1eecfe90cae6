import Foundation
import OverlayCore
import TOMLKit

extension ConfigSchema {
    // MARK: [gateways]

    static let gateways: [Entry] = [
        Entry(
            "gateways", "preset", .choice(["fast", "standard"], noun: "preset"), default: .literal("\"standard\""),
            example: "\"standard\"",
            doc: "The selector's windows and the probe timeout start from this. `standard`: observations count 5 min, a periodic round every 5 min (±20%), a 5 s probe timeout, the first round 2-5 s after start. `fast` (loopback tests and demos): 5 s, 5 s, 2 s, 0.5-1.5 s.",
            assign: { v, _, c in c.gateways.preset = v.string },
            render: { .set(ConfigFile.tomlString($0.gateways.preset)) }),
        Entry(
            "gateways", "strategy", .choice(GatewaySelector.Strategy.allCases.map(\.rawValue), noun: "strategy"),
            default: .literal("\"collaborative\""), example: "\"collaborative\"",
            doc: "How candidates are drawn and judged. `collaborative`: RIMO's two weighted random candidates plus the current one, judged by the cloud's shared measurements, probing only what too few nodes measured recently. The others are the paper's baselines, for comparison: `rimo` probes its 2-3 candidates every round, `brute-force` probes every gateway, `power-of-two` two random ones, `random` none.",
            assign: { v, _, c in c.gateways.strategy = GatewaySelector.Strategy(rawValue: v.string) ?? .collaborative },
            render: { .set(ConfigFile.tomlString($0.gateways.strategy.rawValue)) }),
        Entry(
            "gateways", "probe_url", .string(what: "string, URL", rule: "`http://` or `https://` with a host"),
            default: .literal("\"http://detectportal.firefox.com/success.txt\""), example: "\"http://10.0.0.1/probe.bin\"",
            doc: "The small object fetched through each gateway's proxy to time it (RIMO 3.2: content latency tracks what users feel). A connectivity-check file of a few bytes on a CDN: a probe costs almost nothing and measures the path, not the object. The prober tunnels with `CONNECT`, so each proxy must allow the URL's port (tinyproxy: `ConnectPort 80`). A community may serve its own object.",
            assign: { v, o, c in c.gateways.probeURL = try GatewayRules.probeURL(v.string, o) },
            render: { .set(ConfigFile.tomlString($0.gateways.probeURL)) }),
        Entry(
            "gateways", "expected_bytes", .integer(0...16_777_216, unit: .plain("bytes")), default: .literal("0"), example: "4096",
            doc: "The object's size: a shorter body is a `short_body` failure. 0 accepts any complete body (a `Content-Length` is still checked).",
            assign: { v, _, c in c.gateways.expectedBytes = v.integer },
            render: { .set("\($0.gateways.expectedBytes)") }),
        Entry(
            "gateways", "probe_timeout_ms", .integer(1...600_000, unit: .milliseconds), default: .derived("the preset's: 5000"),
            example: "5000",
            doc: "The whole probe's limit: connection to the proxy, tunnel, answer and body. Several times a slow multi-hop fetch of a small object; a dead gateway cannot hold a round longer. A failed probe counts as twice this in estimates.",
            assign: { v, _, c in c.gateways.probeTimeout = .milliseconds(v.integer) },
            render: { c in
                let inForce = "\(c.gateways.gossipSettings(local: nil).probeTimeout.milliseconds)"
                return c.gateways.probeTimeout == nil ? .inForce(inForce) : .set(inForce)
            }),
        Entry(
            "gateways", "max_concurrent_probes", .integer(1...64, unit: nil), default: .literal("4"), example: "4",
            doc: "Probes run at once; the rest wait. A RIMO round probes at most three.",
            assign: { v, _, c in c.gateways.maxConcurrentProbes = v.integer },
            render: { .set("\($0.gateways.maxConcurrentProbes)") }),
        Entry(
            "gateways", "probe_budget", .number(0...3, unit: .plain("probes/node/round"), aboveLower: true),
            default: .literal("0.25"), example: "0.25",
            doc: "Probes per node per selection round that the cloud may spend on average (DESIGN 8: at most 0.25, RIMO spends 2-3). The collaborative selector spends it where estimates are least certain (unmeasured, stale, or the load moved), whatever the number of clients.",
            assign: { v, _, c in c.gateways.probeBudget = v.number },
            render: { .set(ConfigFile.tomlNumber($0.gateways.probeBudget)) }),
        Entry(
            "gateways", "allow", .strings(what: "gateway names", rule: "names of 1-128 bytes"), default: .literal("[]"),
            example: "[\"10.1.2.3:3128\"]",
            doc: "If not empty, only these gateways may be used (RIMO Algorithm 1's filter: cost, trust).",
            assign: { v, o, c in c.gateways.allow = try v.strings.map { try GatewayRules.name($0, GatewayRules.key("allow"), o) } },
            render: { .set("[\($0.gateways.allow.map(ConfigFile.tomlString).joined(separator: ", "))]") }),
        Entry(
            "gateways", "deny", .strings(what: "gateway names", rule: "names of 1-128 bytes"), default: .literal("[]"),
            example: "[\"10.1.2.4:3128\"]",
            doc: "Gateways never to use; wins over `allow`.",
            assign: { v, o, c in c.gateways.deny = try v.strings.map { try GatewayRules.name($0, GatewayRules.key("deny"), o) } },
            render: { .set("[\($0.gateways.deny.map(ConfigFile.tomlString).joined(separator: ", "))]") }),
        Entry(
            "gateways", "max_hops", .integer(0...64, unit: .plain("hops")), default: .derived("none (the horizon, 10)"), example: "5",
            doc: "The farthest gateway to consider: the paper's \"proxy selection horizon\" (RIMO section 4).",
            assign: { v, _, c in c.gateways.maxHops = v.integer },
            render: { c in
                c.gateways.maxHops.map { .set("\($0)") } ?? .inForce("\(c.gateways.gossipSettings(local: nil).selector.maxHops)")
            }),
        Entry(
            "gateways", "hop_source", .choice(GatewaysConfiguration.HopSource.allCases.map(\.rawValue), noun: "hop source"),
            default: .literal("\"static\""), example: "\"batman-adv\"",
            doc: "Where hop counts come from. `static`: the `hops` of each declared gateway. The others read the routing daemon every `hop_refresh_s`; a read that fails or cannot be parsed is logged in one line and the last good table is kept.",
            assign: { v, _, c in c.gateways.hopSource = GatewaysConfiguration.HopSource(rawValue: v.string) ?? .static },
            render: { .set(ConfigFile.tomlString($0.gateways.hopSource.rawValue)) }),
        Entry(
            "gateways", "hop_command", .string(what: "string", rule: "not empty"), default: .derived("per source (see the doc)"),
            example: "\"batctl meshif bat0 originators_json\"",
            doc: "The command (run with `/bin/sh -c`, at most 5 s) whose output is the routing table: `batctl meshif bat0 originators_json` for batman-adv, `cat /var/run/bmx7/json/originators` for bmx7, `echo dump \\| nc -q 1 ::1 33123` for babel (babeld's local port).",
            assign: { v, o, c in
                guard !v.string.trimmingCharacters(in: .whitespaces).isEmpty, !v.string.contains("\0") else {
                    throw ConfigError.invalid(.badValue, o, GatewayRules.key("hop_command"), problem: "is empty")
                }
                c.gateways.hopCommand = v.string
            },
            render: { c in
                if let command = c.gateways.hopCommand { return .set(ConfigFile.tomlString(command)) }
                return .inForce(c.gateways.hopCommandInForce.map(ConfigFile.tomlString) ?? "(none)")
            }),
        Entry(
            "gateways", "hop_refresh_s", .integer(1...86_400, unit: .seconds), default: .literal("30"), example: "30",
            doc: "Time between reads of the hop source: routes on a radio mesh change over minutes, and each read costs a process.",
            assign: { v, _, c in c.gateways.hopRefresh = .seconds(v.integer) },
            render: { .set("\($0.gateways.hopRefresh.milliseconds / 1000)") }),
        Entry(
            "gateways", "freshness_window_s", .integer(1...86_400, unit: .seconds), default: .derived("the preset's: 300"),
            example: "300",
            doc: "How long an observation counts, and the probe budget's period.",
            assign: { v, _, c in c.gateways.freshnessWindow = .seconds(v.integer) },
            render: { c in
                let inForce = "\(c.gateways.gossipSettings(local: nil).selector.freshnessWindow.milliseconds / 1000)"
                return c.gateways.freshnessWindow == nil ? .inForce(inForce) : .set(inForce)
            }),
        Entry(
            "gateways", "reselection_period_s", .integer(1...86_400, unit: .seconds), default: .derived("the preset's: 300"),
            example: "300",
            doc: "Time between periodic rounds (spread ±20%). With shared estimates a periodic round usually costs no probe.",
            assign: { v, _, c in c.gateways.reselectionPeriod = .seconds(v.integer) },
            render: { c in
                let inForce = "\(c.gateways.gossipSettings(local: nil).selector.reselectionPeriod.milliseconds / 1000)"
                return c.gateways.reselectionPeriod == nil ? .inForce(inForce) : .set(inForce)
            }),
        Entry(
            "gateways", "target_observers", .integer(1...64, unit: .plain("nodes")), default: .derived("the preset's: 3"),
            example: "3",
            doc: "Distinct nodes that should measure each gateway per freshness window; a node probes a candidate only while fewer have. 3 is the smallest count whose median one lying member cannot move.",
            assign: { v, _, c in c.gateways.targetObservers = v.integer },
            render: { c in
                let inForce = "\(c.gateways.gossipSettings(local: nil).selector.targetObserversPerPeriod)"
                return c.gateways.targetObservers == nil ? .inForce(inForce) : .set(inForce)
            }),
    ]

    // MARK: [[gateways.gateway]]

    /// The keys of one `[[gateways.gateway]]` section.
    static let declaredGateway: [ConfigEntry<GatewayDraft>] = [
        ConfigEntry(
            "gateways.gateway", "id", .string(what: "string", rule: "1-128 bytes"), default: .derived("the proxy as `host:port`"),
            example: "\"gw-1\"",
            doc: "The gateway's name in observations, selections and the API. Nodes that declare the same proxy without an `id` agree on the name without saying it. Two sections with the same name are an error.",
            assign: { v, o, d in d.id = try GatewayRules.name(v.string, d.key("id", "\"gw-1\""), o) },
            render: { d in d.id.map { .set(ConfigFile.tomlString($0)) } ?? .omitted }),
        ConfigEntry(
            "gateways.gateway", "proxy", .string(what: "`host:port`", rule: "not a wildcard"), default: .required,
            example: "\"10.1.2.3:3128\"",
            doc: "Where its HTTP proxy listens.",
            assign: { v, o, d in d.proxy = try GatewayRules.proxy(v.string, d.key("proxy", "\"10.1.2.3:3128\""), o) },
            render: { d in d.proxy.map { .set(ConfigFile.tomlString($0.description)) } ?? .omitted }),
        ConfigEntry(
            "gateways.gateway", "capacity", .integer(1...1_000_000, unit: .plain("clients")), default: .derived("unknown (32 assumed)"),
            example: "32",
            doc: "Clients it is meant to serve; the selector's load factor divides by it.",
            assign: { v, _, d in d.capacity = v.integer },
            render: { d in d.capacity.map { .set("\($0)") } ?? .omitted }),
        ConfigEntry(
            "gateways.gateway", "hops", .integer(0...64, unit: .plain("hops")), default: .derived("unknown"), example: "2",
            doc: "A static hop count from this node, used when the hop source does not list the gateway.",
            assign: { v, _, d in d.hops = v.integer },
            render: { d in d.hops.map { .set("\($0)") } ?? .omitted }),
        ConfigEntry(
            "gateways.gateway", "route_key", .string(what: "string", rule: "not empty"), default: .derived("the proxy's host"),
            example: "\"02:aa:00:00:00:03\"",
            doc: "Its key in the routing daemon's table: an originator MAC (batman-adv), a node name, short ID or primary IP (bmx7), a router ID or prefix (babel).",
            assign: { v, o, d in
                guard !v.string.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ConfigError.invalid(.badValue, o, d.key("route_key", "\"02:aa:00:00:00:03\""), problem: "is empty")
                }
                d.routeKey = v.string
            },
            render: { d in d.routeKey.map { .set(ConfigFile.tomlString($0)) } ?? .omitted }),
    ]

    // MARK: [gateway]

    /// The keys of `[gateway]`, the gateway this node runs.
    static let localGateway: [ConfigEntry<GatewayDraft>] = [
        ConfigEntry(
            "gateway", "id", .string(what: "string", rule: "1-128 bytes"), default: .derived("the proxy as `host:port`"),
            example: "\"gw-placa\"",
            doc: "The gateway's name.",
            assign: { v, o, d in d.id = try GatewayRules.name(v.string, d.key("id", "\"gw-placa\""), o) },
            render: { d in d.id.map { .set(ConfigFile.tomlString($0)) } ?? .omitted }),
        ConfigEntry(
            "gateway", "proxy", .string(what: "`host:port`", rule: "not a wildcard"), default: .required,
            example: "\"10.228.17.33:8888\"",
            doc: "Where its proxy listens, as the other nodes reach it: this node's mesh address, not loopback (outside a test).",
            assign: { v, o, d in d.proxy = try GatewayRules.proxy(v.string, d.key("proxy", "\"10.228.17.33:8888\""), o) },
            render: { d in d.proxy.map { .set(ConfigFile.tomlString($0.description)) } ?? .omitted }),
        ConfigEntry(
            "gateway", "capacity", .integer(1...1_000_000, unit: .plain("clients")), default: .derived("unknown"), example: "32",
            doc: "Clients it is meant to serve.",
            assign: { v, _, d in d.capacity = v.integer },
            render: { d in d.capacity.map { .set("\($0)") } ?? .omitted }),
    ]
}

/// One gateway section while it is read: the proxy may still be missing.
struct GatewayDraft: Sendable {
    /// The table name used in messages: `gateways.gateway[2]` or `gateway`.
    var table: String
    var id: String?
    var proxy: ProxyEndpoint?
    var capacity: Int?
    var hops: Int?
    var routeKey: String?

    /// A key of this section, for messages.
    func key(_ name: String, _ example: String) -> ConfigKey { ConfigKey(table, name, example: example) }
}

/// The rules of gateway values, shared by the entries.
enum GatewayRules {
    static func key(_ name: String) -> ConfigKey { ConfigSchema.entry("gateways", name).key }

    static func name(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        switch GatewayName.check(text) {
        case .success: return text
        case .failure(let error):
            throw ConfigError.invalid(.badValue, origin, key, problem: "has \"\(text)\", but \(error.description)")
        }
    }

    static func proxy(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> ProxyEndpoint {
        let endpoint = try ConfigCheck.endpoint(text, key, origin, wildcard: false)
        return ProxyEndpoint(host: endpoint.host, port: endpoint.port)
    }

    static func probeURL(_ text: String, _ origin: ConfigOrigin) throws -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty
        else {
            throw ConfigError.invalid(
                .badValue, origin, key("probe_url"), problem: "is \"\(text)\", which is not an http:// or https:// URL with a host")
        }
        return text
    }
}

/// Reads and writes the gateway sections of the config file with the rules of the other tables.
enum GatewayConfigReader {
    /// Reads `[[gateways.gateway]]` and `[gateway]` into `config` (the plain `[gateways]` keys are
    /// read with the other tables).
    static func read(_ tables: [String: TOMLTable], _ origin: ConfigOrigin, into config: inout NodeConfiguration) throws {
        config.gateways.declared = try declaredGateways(tables["gateways"], origin)
        if let table = tables["gateway"] {
            let reader = TableReader(table: table, origin: origin)
            var draft = GatewayDraft(table: "gateway")
            for entry in ConfigSchema.localGateway { try entry.read(from: reader, into: &draft) }
            guard let proxy = draft.proxy else {
                throw ConfigError.invalid(
                    .missingValue, origin, key: "gateway.proxy",
                    problem: "is not set, but a [gateway] table needs the address of the proxy this node runs",
                    instead: draft.key("proxy", "\"10.228.17.33:8888\"").suggestion(for: origin))
            }
            config.localGateway = LocalGatewayConfiguration(id: draft.id, proxy: proxy, capacity: draft.capacity)
        }
    }

    /// Reads the `[[gateways.gateway]]` array of tables.
    private static func declaredGateways(_ table: TOMLTable?, _ origin: ConfigOrigin) throws -> [GatewaysConfiguration.Declared] {
        guard let value = table?["gateway"] else { return [] }
        guard let array = value.array else {
            throw ConfigError.invalid(
                .wrongType, origin, key: "gateways.gateway",
                problem: "must be an array of tables, not \(ConfigCheck.article(value.type))",
                instead: "write each gateway as its own [[gateways.gateway]] section with proxy = \"host:port\"")
        }
        let names = ConfigSchema.declaredGateway.map(\.spec.name)
        var declared: [GatewaysConfiguration.Declared] = []
        var seen: Set<GatewayID> = []
        for (index, element) in array.enumerated() {
            let prefix = "gateways.gateway[\(index + 1)]"
            guard let entry = element.table else {
                throw ConfigError.invalid(
                    .wrongType, origin, key: prefix, problem: "must be a table, not \(ConfigCheck.article(element.type))",
                    instead: "write each gateway as its own [[gateways.gateway]] section with proxy = \"host:port\"")
            }
            for name in entry.keys where !names.contains(name) {
                let guess = ConfigCheck.closest(to: name, in: names)
                throw ConfigError.invalid(
                    .unknownKey, origin, key: "\(prefix).\(name)", problem: "is not a known key",
                    instead: guess.map { "write \($0) instead (Docs/configuration.md lists every key)" }
                        ?? "remove it (the keys of a [[gateways.gateway]] are \(names.joined(separator: ", ")))")
            }
            let reader = TableReader(table: entry, origin: origin)
            var draft = GatewayDraft(table: prefix)
            for key in ConfigSchema.declaredGateway { try key.read(from: reader, into: &draft, table: prefix) }
            guard let proxy = draft.proxy else {
                throw ConfigError.invalid(
                    .missingValue, origin, key: "\(prefix).proxy", problem: "is not set, but every gateway needs its proxy",
                    instead: "write proxy = \"host:port\" in that [[gateways.gateway]] section")
            }
            let gateway = GatewaysConfiguration.Declared(
                id: draft.id, proxy: proxy, capacity: draft.capacity, hops: draft.hops, routeKey: draft.routeKey)
            guard seen.insert(gateway.gatewayID).inserted else {
                throw ConfigError.invalid(
                    .badValue, origin, key: prefix, problem: "declares the gateway \"\(gateway.gatewayID)\" a second time",
                    instead: "remove one of the two sections, or give them different ids")
            }
            declared.append(gateway)
        }
        return declared
    }

    /// Writes the gateway sections, so that ``ConfigFile/parse(text:source:)`` reads them back.
    static func renderSections(_ config: NodeConfiguration) -> [String] {
        var lines: [String] = []
        for gateway in config.gateways.declared {
            let draft = GatewayDraft(
                table: "gateways.gateway", id: gateway.id, proxy: gateway.proxy, capacity: gateway.capacity,
                hops: gateway.hops, routeKey: gateway.routeKey)
            lines += ["", "[[gateways.gateway]]"] + ConfigSchema.declaredGateway.compactMap { $0.renderedLine(draft) }
        }
        if let local = config.localGateway {
            let draft = GatewayDraft(table: "gateway", id: local.id, proxy: local.proxy, capacity: local.capacity)
            lines += ["", "[gateway]"] + ConfigSchema.localGateway.compactMap { $0.renderedLine(draft) }
        }
        return lines
    }
}
