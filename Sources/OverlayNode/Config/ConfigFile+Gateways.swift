import Foundation
import OverlayCore
import TOMLKit

/// The keys of `[gateways]`, `[[gateways.gateway]]` and `[gateway]`.
enum GatewayConfigKeys {
    static let preset = ConfigKey("gateways", "preset", example: "\"standard\"")
    static let strategy = ConfigKey("gateways", "strategy", example: "\"collaborative\"")
    static let probeURL = ConfigKey("gateways", "probe_url", example: "\"http://10.0.0.1/probe.bin\"")
    static let expectedBytes = ConfigKey("gateways", "expected_bytes", example: "4096")
    static let probeTimeout = ConfigKey("gateways", "probe_timeout_ms", example: "5000")
    static let maxConcurrent = ConfigKey("gateways", "max_concurrent_probes", example: "4")
    static let allow = ConfigKey("gateways", "allow", example: "[\"10.1.2.3:3128\"]")
    static let deny = ConfigKey("gateways", "deny", example: "[\"10.1.2.4:3128\"]")
    static let maxHops = ConfigKey("gateways", "max_hops", example: "5")
    static let hopSource = ConfigKey("gateways", "hop_source", example: "\"batman-adv\"")
    static let hopCommand = ConfigKey("gateways", "hop_command", example: "\"batctl meshif bat0 originators_json\"")
    static let hopRefresh = ConfigKey("gateways", "hop_refresh_s", example: "30")
    static let freshness = ConfigKey("gateways", "freshness_window_s", example: "300")
    static let reselection = ConfigKey("gateways", "reselection_period_s", example: "300")
    static let targetObservers = ConfigKey("gateways", "target_observers", example: "3")
    static let gateway = ConfigKey("gateways", "gateway", example: "[{ proxy = \"10.1.2.3:3128\" }]")

    /// The keys of one `[[gateways.gateway]]` entry.
    static let entryKeys = ["id", "proxy", "capacity", "hops", "route_key"]

    static let localID = ConfigKey("gateway", "id", example: "\"gw-placa\"")
    static let localProxy = ConfigKey("gateway", "proxy", example: "\"10.228.17.33:8888\"")
    static let localCapacity = ConfigKey("gateway", "capacity", example: "32")

    static let all: [ConfigKey] = [
        preset, strategy, probeURL, expectedBytes, probeTimeout, maxConcurrent, allow, deny, maxHops, hopSource,
        hopCommand, hopRefresh, freshness, reselection, targetObservers, gateway, localID, localProxy, localCapacity,
    ]
}

/// Reads and writes the gateway tables of the config file, with the rules of the other tables:
/// unknown keys, wrong types and values out of range are errors naming the file and the key.
enum GatewayConfigReader {
    /// Reads `[gateways]` and `[gateway]` into `config`.
    static func read(_ tables: [String: TOMLTable], _ origin: ConfigOrigin, into config: inout NodeConfiguration) throws {
        var gateways = GatewaysConfiguration()
        let reader = TableReader(table: tables["gateways"], origin: origin)
        if let text = try reader.string(GatewayConfigKeys.preset) {
            guard GatewayGossipSettings.presets[text] != nil else {
                throw badValue(GatewayConfigKeys.preset, origin, "is \"\(text)\", which is not a preset (choose \"fast\" or \"standard\")")
            }
            gateways.preset = text
        }
        if let text = try reader.string(GatewayConfigKeys.strategy) {
            guard let strategy = GatewaySelector.Strategy(rawValue: text) else {
                let names = GatewaySelector.Strategy.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw badValue(GatewayConfigKeys.strategy, origin, "is \"\(text)\", which is not a strategy (choose \(names))")
            }
            gateways.strategy = strategy
        }
        if let text = try reader.string(GatewayConfigKeys.probeURL) {
            gateways.probeURL = try probeURL(text, origin)
        }
        if let bytes = try reader.integer(GatewayConfigKeys.expectedBytes, 0...16_777_216, unit: "bytes") {
            gateways.expectedBytes = bytes
        }
        if let ms = try reader.integer(GatewayConfigKeys.probeTimeout, 1...600_000, unit: "milliseconds") {
            gateways.probeTimeout = .milliseconds(ms)
        }
        if let count = try reader.integer(GatewayConfigKeys.maxConcurrent, 1...64, unit: nil) {
            gateways.maxConcurrentProbes = count
        }
        if let names = try reader.strings(GatewayConfigKeys.allow) {
            gateways.allow = try names.map { try gatewayName($0, GatewayConfigKeys.allow, origin) }
        }
        if let names = try reader.strings(GatewayConfigKeys.deny) {
            gateways.deny = try names.map { try gatewayName($0, GatewayConfigKeys.deny, origin) }
        }
        if let hops = try reader.integer(GatewayConfigKeys.maxHops, 0...64, unit: "hops") { gateways.maxHops = hops }
        if let text = try reader.string(GatewayConfigKeys.hopSource) {
            guard let source = GatewaysConfiguration.HopSource(rawValue: text) else {
                let names = GatewaysConfiguration.HopSource.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                throw badValue(GatewayConfigKeys.hopSource, origin, "is \"\(text)\", which is not a hop source (choose \(names))")
            }
            gateways.hopSource = source
        }
        if let text = try reader.string(GatewayConfigKeys.hopCommand) {
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty, !text.contains("\0") else {
                throw badValue(GatewayConfigKeys.hopCommand, origin, "is empty")
            }
            gateways.hopCommand = text
        }
        if let seconds = try reader.integer(GatewayConfigKeys.hopRefresh, 1...86_400, unit: "seconds") {
            gateways.hopRefresh = .seconds(seconds)
        }
        if let seconds = try reader.integer(GatewayConfigKeys.freshness, 1...86_400, unit: "seconds") {
            gateways.freshnessWindow = .seconds(seconds)
        }
        if let seconds = try reader.integer(GatewayConfigKeys.reselection, 1...86_400, unit: "seconds") {
            gateways.reselectionPeriod = .seconds(seconds)
        }
        if let count = try reader.integer(GatewayConfigKeys.targetObservers, 1...64, unit: "nodes") {
            gateways.targetObservers = count
        }
        gateways.declared = try declaredGateways(tables["gateways"], origin)
        config.gateways = gateways

        if let table = tables["gateway"] {
            let local = TableReader(table: table, origin: origin)
            guard let proxyText = try local.string(GatewayConfigKeys.localProxy) else {
                throw ConfigError.invalid(
                    .missingValue, origin, key: GatewayConfigKeys.localProxy.dotted,
                    problem: "is not set, but a [gateway] table needs the address of the proxy this node runs",
                    instead: GatewayConfigKeys.localProxy.suggestion(for: origin))
            }
            var gateway = LocalGatewayConfiguration(proxy: try proxy(proxyText, GatewayConfigKeys.localProxy, origin))
            if let text = try local.string(GatewayConfigKeys.localID) {
                gateway.id = try gatewayName(text, GatewayConfigKeys.localID, origin)
            }
            if let capacity = try local.integer(GatewayConfigKeys.localCapacity, 1...1_000_000, unit: "clients") {
                gateway.capacity = capacity
            }
            config.localGateway = gateway
        }
    }

    /// Reads the `[[gateways.gateway]]` array of tables.
    private static func declaredGateways(_ table: TOMLTable?, _ origin: ConfigOrigin) throws -> [GatewaysConfiguration.Declared] {
        guard let value = table?["gateway"] else { return [] }
        guard let array = value.array else {
            throw ConfigError.invalid(
                .wrongType, origin, key: GatewayConfigKeys.gateway.dotted,
                problem: "must be an array of tables, not \(ConfigCheck.article(value.type))",
                instead: "write each gateway as its own [[gateways.gateway]] section with proxy = \"host:port\"")
        }
        var declared: [GatewaysConfiguration.Declared] = []
        var seen: Set<GatewayID> = []
        for (index, element) in array.enumerated() {
            let prefix = "gateways.gateway[\(index + 1)]"
            guard let entry = element.table else {
                throw ConfigError.invalid(
                    .wrongType, origin, key: prefix, problem: "must be a table, not \(ConfigCheck.article(element.type))",
                    instead: "write each gateway as its own [[gateways.gateway]] section with proxy = \"host:port\"")
            }
            for name in entry.keys where !GatewayConfigKeys.entryKeys.contains(name) {
                let guess = ConfigCheck.closest(to: name, in: GatewayConfigKeys.entryKeys)
                throw ConfigError.invalid(
                    .unknownKey, origin, key: "\(prefix).\(name)", problem: "is not a known key",
                    instead: guess.map { "write \($0) instead (Docs/configuration.md lists every key)" }
                        ?? "remove it (the keys of a [[gateways.gateway]] are \(GatewayConfigKeys.entryKeys.joined(separator: ", ")))")
            }
            func key(_ name: String, _ example: String) -> ConfigKey { ConfigKey(prefix, name, example: example) }
            let reader = TableReader(table: entry, origin: origin)
            guard let proxyText = try reader.string(key("proxy", "\"10.1.2.3:3128\"")) else {
                throw ConfigError.invalid(
                    .missingValue, origin, key: "\(prefix).proxy", problem: "is not set, but every gateway needs its proxy",
                    instead: "write proxy = \"host:port\" in that [[gateways.gateway]] section")
            }
            var gateway = GatewaysConfiguration.Declared(proxy: try proxy(proxyText, key("proxy", "\"10.1.2.3:3128\""), origin))
            if let text = try reader.string(key("id", "\"gw-1\"")) { gateway.id = try gatewayName(text, key("id", "\"gw-1\""), origin) }
            if let capacity = try reader.integer(key("capacity", "32"), 1...1_000_000, unit: "clients") { gateway.capacity = capacity }
            if let hops = try reader.integer(key("hops", "2"), 0...64, unit: "hops") { gateway.hops = hops }
            if let text = try reader.string(key("route_key", "\"02:aa:00:00:00:03\"")) {
                guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw badValue(key("route_key", "\"02:aa:00:00:00:03\""), origin, "is empty")
                }
                gateway.routeKey = text
            }
            guard seen.insert(gateway.gatewayID).inserted else {
                throw ConfigError.invalid(
                    .badValue, origin, key: prefix, problem: "declares the gateway \"\(gateway.gatewayID)\" a second time",
                    instead: "remove one of the two sections, or give them different ids")
            }
            declared.append(gateway)
        }
        return declared
    }

    /// Writes the gateway tables, so that ``ConfigFile/parse(text:source:)`` reads them back.
    static func render(_ config: NodeConfiguration) -> [String] {
        let g = config.gateways
        let inForce = g.gossipSettings(local: nil)
        var lines = ["[gateways]", "preset = \(ConfigFile.tomlString(g.preset))", "strategy = \(ConfigFile.tomlString(g.strategy.rawValue))"]
        lines.append("probe_url = \(ConfigFile.tomlString(g.probeURL))")
        lines.append("expected_bytes = \(g.expectedBytes)")
        lines.append(optional("probe_timeout_ms", g.probeTimeout.map { "\($0.milliseconds)" }, inForce: "\(inForce.probeTimeout.milliseconds)"))
        lines.append("max_concurrent_probes = \(g.maxConcurrentProbes)")
        lines.append("allow = [\(g.allow.map(ConfigFile.tomlString).joined(separator: ", "))]")
        lines.append("deny = [\(g.deny.map(ConfigFile.tomlString).joined(separator: ", "))]")
        lines.append(optional("max_hops", g.maxHops.map { "\($0)" }, inForce: "\(inForce.selector.maxHops)"))
        lines.append("hop_source = \(ConfigFile.tomlString(g.hopSource.rawValue))")
        lines.append(optional("hop_command", g.hopCommand.map(ConfigFile.tomlString), inForce: g.hopCommandInForce.map(ConfigFile.tomlString) ?? "(none)"))
        lines.append("hop_refresh_s = \(g.hopRefresh.milliseconds / 1000)")
        lines.append(optional("freshness_window_s", g.freshnessWindow.map { "\($0.milliseconds / 1000)" }, inForce: "\(inForce.selector.freshnessWindow.milliseconds / 1000)"))
        lines.append(optional("reselection_period_s", g.reselectionPeriod.map { "\($0.milliseconds / 1000)" }, inForce: "\(inForce.selector.reselectionPeriod.milliseconds / 1000)"))
        lines.append(optional("target_observers", g.targetObservers.map { "\($0)" }, inForce: "\(inForce.selector.targetObserversPerPeriod)"))
        for gateway in g.declared {
            lines += ["", "[[gateways.gateway]]"]
            if let id = gateway.id { lines.append("id = \(ConfigFile.tomlString(id))") }
            lines.append("proxy = \(ConfigFile.tomlString(gateway.proxy.description))")
            if let capacity = gateway.capacity { lines.append("capacity = \(capacity)") }
            if let hops = gateway.hops { lines.append("hops = \(hops)") }
            if let routeKey = gateway.routeKey { lines.append("route_key = \(ConfigFile.tomlString(routeKey))") }
        }
        if let local = config.localGateway {
            lines += ["", "[gateway]"]
            if let id = local.id { lines.append("id = \(ConfigFile.tomlString(id))") }
            lines.append("proxy = \(ConfigFile.tomlString(local.proxy.description))")
            if let capacity = local.capacity { lines.append("capacity = \(capacity)") }
        }
        return lines
    }

    private static func optional(_ name: String, _ value: String?, inForce: String) -> String {
        value.map { "\(name) = \($0)" } ?? "# \(name) = \(inForce)"
    }

    private static func badValue(_ key: ConfigKey, _ origin: ConfigOrigin, _ problem: String) -> ConfigError {
        ConfigError.invalid(.badValue, origin, key, problem: problem)
    }

    private static func gatewayName(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        switch GatewayName.check(text) {
        case .success: return text
        case .failure(let error): throw badValue(key, origin, "has \"\(text)\", but \(error.description)")
        }
    }

    private static func proxy(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> ProxyEndpoint {
        let endpoint = try ConfigCheck.endpoint(text, key, origin, wildcard: false)
        return ProxyEndpoint(host: endpoint.host, port: endpoint.port)
    }

    private static func probeURL(_ text: String, _ origin: ConfigOrigin) throws -> String {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty
        else {
            throw badValue(GatewayConfigKeys.probeURL, origin, "is \"\(text)\", which is not an http:// or https:// URL with a host")
        }
        return text
    }
}
