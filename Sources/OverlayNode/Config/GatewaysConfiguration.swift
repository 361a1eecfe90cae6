import Foundation
import OverlayCore

/// The `[gateways]` table: which Internet gateways this node may use, how it measures them
/// (the HTTP probe), how it chooses (the strategy and preferences), and where hop counts come
/// from. Every key is optional; `Docs/configuration.md` lists each with its default and reason.
public struct GatewaysConfiguration: Sendable, Equatable {
    /// One `[[gateways.gateway]]` entry: a gateway declared in the config file.
    public struct Declared: Sendable, Equatable {
        /// `id`: the gateway's name; default its proxy as `host:port`, so every node that
        /// declares the same proxy agrees on the name without saying it.
        public var id: String?
        /// `proxy`: where its HTTP proxy listens, `host:port`. Required.
        public var proxy: ProxyEndpoint
        /// `capacity`: clients it is meant to serve; default unknown (the selector assumes 32).
        public var capacity: Int?
        /// `hops`: a static hop count from this node; default unknown (the hop source, else
        /// RIMO's MaxHOPS).
        public var hops: Int?
        /// `route_key`: its key in the routing daemon's table (originator MAC, node name,
        /// router ID...); default the proxy's host.
        public var routeKey: String?

        /// Creates a declared gateway.
        public init(id: String? = nil, proxy: ProxyEndpoint, capacity: Int? = nil, hops: Int? = nil, routeKey: String? = nil) {
            self.id = id
            self.proxy = proxy
            self.capacity = capacity
            self.hops = hops
            self.routeKey = routeKey
        }

        /// The name in force: ``id``, else the proxy endpoint.
        public var gatewayID: GatewayID { id.map { GatewayID($0) } ?? GatewayID(proxy: proxy) }

        /// The core's description of it.
        public var gateway: Gateway {
            Gateway(id: gatewayID, proxy: proxy, capacity: capacity, hops: hops, routeKey: routeKey)
        }
    }

    /// Where hop counts come from (`hop_source`).
    public enum HopSource: String, Sendable, Equatable, CaseIterable {
        /// Only the `hops` of each declared gateway (and none for announced ones).
        case `static`
        /// batman-adv through `batctl` (JSON or text tables).
        case batmanAdv = "batman-adv"
        /// bmx7's JSON originators file.
        case bmx7
        /// babeld's local interface (`dump`).
        case babel

        /// The core parser's format, `nil` for ``static``.
        public var format: HopSourceFormat? {
            switch self {
            case .static: nil
            case .batmanAdv: .batmanAdv
            case .bmx7: .bmx7
            case .babel: .babel
            }
        }

        /// The command run when `hop_command` is not set: batman-adv's originators as JSON,
        /// bmx7's JSON plugin file, babeld's `dump` on its default local port (33123).
        public var defaultCommand: String? {
            switch self {
            case .static: nil
            case .batmanAdv: "batctl meshif bat0 originators_json"
            case .bmx7: "cat /var/run/bmx7/json/originators"
            case .babel: "echo dump | nc -q 1 ::1 33123"
            }
        }
    }

    /// `preset`: the selector's windows and the probe timeout start from this
    /// (``GatewayGossipSettings/presets``). Default `"standard"`; `"fast"` for tests and demos.
    public var preset: String = "standard"
    /// `strategy`: `collaborative` (default: RIMO's draw judged by the cloud's shared
    /// measurements), `rimo`, `power-of-two`, `brute-force` or `random` (the paper's baselines).
    public var strategy: GatewaySelector.Strategy = .collaborative
    /// `[[gateways.gateway]]`: the gateways declared here; gateway nodes announce more.
    public var declared: [Declared] = []
    /// `probe_url`: the small object fetched through each gateway's proxy (RIMO 3.2: content
    /// latency). Default a connectivity-check file of a few bytes served by a CDN, so a probe
    /// costs almost nothing and measures the path, not the object.
    public var probeURL: String = "http://detectportal.firefox.com/success.txt"
    /// `expected_bytes`: the probe object's size; a shorter body is a `short_body` failure.
    /// Default 0: any complete body counts (a Content-Length is still checked).
    public var expectedBytes: Int = 0
    /// `probe_timeout_ms`: the whole probe's limit; default the preset's (5 s standard, 2 s fast).
    public var probeTimeout: Duration? = nil
    /// `max_concurrent_probes`: probes run at once. Default 4.
    public var maxConcurrentProbes: Int = 4
    /// `gateways.probe_budget`: probes per node per selection round the cloud may spend on
    /// average. Default 0.25, the design's cost target (RIMO spends 2-3); range above 0, at most 3.
    public var probeBudget: Double = 0.25
    /// `allow`: if not empty, only these gateway names may be used. Default empty (all).
    public var allow: [String] = []
    /// `deny`: gateway names never to use; wins over `allow`. Default empty.
    public var deny: [String] = []
    /// `max_hops`: the farthest gateway to consider, in hops. Default none (the selector's
    /// horizon, 10).
    public var maxHops: Int? = nil
    /// `hop_source`: where hop counts come from. Default ``HopSource/static``.
    public var hopSource: HopSource = .static
    /// `hop_command`: the command whose output is the routing daemon's table (run with
    /// `/bin/sh -c`); default ``HopSource/defaultCommand``.
    public var hopCommand: String? = nil
    /// `hop_refresh_s`: time between reads of the hop source. Default 30 s: routes on a radio
    /// mesh change over minutes, and each read costs a process.
    public var hopRefresh: Duration = .seconds(30)
    /// `freshness_window_s`: how long an observation counts; default the preset's (300 s, 5 s fast).
    public var freshnessWindow: Duration? = nil
    /// `reselection_period_s`: time between periodic rounds; default the preset's (300 s, 5 s fast).
    public var reselectionPeriod: Duration? = nil
    /// `target_observers`: nodes that should measure each gateway per freshness window;
    /// default the preset's (3, the fewest whose median one liar cannot move).
    public var targetObservers: Int? = nil

    /// Creates the defaults.
    public init() {}

    /// The command run to read hop counts, or `nil` for the static source.
    public var hopCommandInForce: String? { hopSource == .static ? nil : (hopCommand ?? hopSource.defaultCommand) }

    /// The static hop table: each declared gateway's `hops` under its hop key.
    public var staticHops: HopTable {
        var table = HopTable()
        for gateway in declared { if let hops = gateway.hops { table.record(hops, for: gateway.gateway.hopKey) } }
        return table
    }

    /// The core settings these keys give, with this node's own gateway, if it runs one.
    public func gossipSettings(local: LocalGatewayConfiguration?) -> GatewayGossipSettings {
        var settings = GatewayGossipSettings.presets[preset] ?? .standard
        settings.strategy = strategy
        settings.gateways = declared.map(\.gateway)
        settings.hops = staticHops
        settings.preferences = GatewayPreferences(
            allow: Set(allow.map { GatewayID($0) }), deny: Set(deny.map { GatewayID($0) }), maxHops: maxHops)
        if let probeTimeout { settings.probeTimeout = probeTimeout }
        settings.maxConcurrentProbes = maxConcurrentProbes
        if let freshnessWindow { settings.selector.freshnessWindow = freshnessWindow }
        if let reselectionPeriod { settings.selector.reselectionPeriod = reselectionPeriod }
        if let targetObservers { settings.selector.targetObserversPerPeriod = targetObservers }
        settings.selector.probeBudget = probeBudget
        // A failed probe must sort after every working one: twice the probe timeout.
        settings.selector.failurePenalty = max(settings.selector.failurePenalty, settings.probeTimeout * 2)
        settings.localGateway = local.map { LocalGateway(id: $0.gatewayID, proxy: $0.proxy, capacity: $0.capacity) }
        return settings
    }
}

/// The `[gateway]` table: the gateway this node runs itself (an HTTP proxy on this box) and
/// announces, signed, to the cloud.
public struct LocalGatewayConfiguration: Sendable, Equatable {
    /// `id`: its name; default the proxy as `host:port`.
    public var id: String?
    /// `proxy`: where its HTTP proxy listens, as the other nodes reach it (this node's mesh
    /// address, not loopback, outside a test). Required.
    public var proxy: ProxyEndpoint
    /// `capacity`: clients it is meant to serve; default unknown.
    public var capacity: Int?

    /// Creates a local gateway configuration.
    public init(id: String? = nil, proxy: ProxyEndpoint, capacity: Int? = nil) {
        self.id = id
        self.proxy = proxy
        self.capacity = capacity
    }

    /// The name in force: ``id``, else the proxy endpoint.
    public var gatewayID: GatewayID { id.map { GatewayID($0) } ?? GatewayID(proxy: proxy) }
}
