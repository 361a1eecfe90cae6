/// The answer of `GET /v1/gateways`: every gateway this node knows, from its config file and from
/// gateway announcements, with the cloud's estimate of each.
///
/// Gateways are sorted by ``GatewayInfo/id``. Fields are only ever added.
public struct GatewaysResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// The gateways, by ID.
    public var gateways: [GatewayInfo]

    /// Creates a gateways response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - gateways: the gateways to report.
    public init(schema: Int = APISchema.version, version: String, gateways: [GatewayInfo]) {
        self.schema = schema
        self.version = version
        self.gateways = gateways
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case gateways
    }
}

/// One Internet gateway (an HTTP proxy reachable over the mesh), as `GET /v1/gateways` reports it.
///
/// Optional fields are always present in the JSON, as `null` when unknown.
public struct GatewayInfo: Codable, Sendable, Equatable {
    /// The values of ``origin``.
    public static let origins = ["configured", "announced"]

    /// The gateway's name: the key every node uses for it in observations and selection
    /// announcements (a configured gateway is named after its proxy, `host:port`).
    public var id: String
    /// Its HTTP proxy, as `host:port` (`[v6]:port` for IPv6).
    public var proxy: String
    /// Where this node learned of it: `configured` (the config file) or `announced` (a gateway
    /// announcement signed by the node that runs it). Kept a string so that a client reads an
    /// origin added by a newer daemon.
    public var origin: String
    /// The ID (64 hex characters) of the node that announced it; `nil` for a configured gateway.
    public var announcedBy: String?
    /// Its distance from this node in radio hops, from the hop source or the config; `nil` when
    /// unknown (the selector then assumes its horizon, RIMO Algorithm 1).
    public var hops: Int?
    /// Whether it passes this node's preferences and hop horizon (RIMO Algorithm 1, `Filter`),
    /// so that the selector may choose it.
    public var eligible: Bool
    /// Why it is not eligible (denied, not allowed, beyond the horizon, ...); `nil` when eligible.
    public var excludedReason: String?
    /// The cloud's estimate of its content latency from this node in milliseconds: the median
    /// over distinct observers' fresh measurements, adjusted for hop distance; `nil` when nobody
    /// measured it recently.
    public var estimateMs: Double?
    /// The median time to first byte over the same observations in milliseconds; `nil` when unknown.
    public var ttfbMs: Double?
    /// How many distinct nodes measured it within the freshness window.
    public var observers: Int
    /// How many of those observers' latest measurements are failures.
    public var failures: Int
    /// Seconds since its newest fresh measurement; `nil` when there is none.
    public var ageSeconds: Double?
    /// How many nodes of the cloud use it, by their selection announcements (or the gateway's
    /// own count, if larger).
    public var clients: Int
    /// The clients its operator says it can serve well; `nil` when not advertised.
    public var capacity: Int?
    /// `true` for the gateway this node uses now.
    public var isCurrent: Bool

    /// Creates a gateway row.
    ///
    /// - Parameters:
    ///   - id: the gateway's name.
    ///   - proxy: its proxy as `host:port`.
    ///   - origin: `configured` or `announced` (see ``origins``).
    ///   - announcedBy: the announcing node's hex ID, or `nil`.
    ///   - hops: hops from this node, or `nil`.
    ///   - eligible: whether it passes the preferences.
    ///   - excludedReason: why it does not, or `nil`.
    ///   - estimateMs: the estimated content latency in milliseconds, or `nil`.
    ///   - ttfbMs: the estimated time to first byte in milliseconds, or `nil`.
    ///   - observers: distinct fresh observers.
    ///   - failures: observers whose latest measurement failed.
    ///   - ageSeconds: seconds since the newest measurement, or `nil`.
    ///   - clients: nodes using it.
    ///   - capacity: advertised capacity, or `nil`.
    ///   - isCurrent: whether this node uses it now.
    public init(
        id: String, proxy: String, origin: String, announcedBy: String? = nil, hops: Int?, eligible: Bool,
        excludedReason: String? = nil, estimateMs: Double?, ttfbMs: Double? = nil, observers: Int, failures: Int,
        ageSeconds: Double?, clients: Int, capacity: Int?, isCurrent: Bool
    ) {
        self.id = id
        self.proxy = proxy
        self.origin = origin
        self.announcedBy = announcedBy
        self.hops = hops
        self.eligible = eligible
        self.excludedReason = excludedReason
        self.estimateMs = estimateMs
        self.ttfbMs = ttfbMs
        self.observers = observers
        self.failures = failures
        self.ageSeconds = ageSeconds
        self.clients = clients
        self.capacity = capacity
        self.isCurrent = isCurrent
    }

    enum CodingKeys: String, CodingKey {
        case id
        case proxy
        case origin
        case announcedBy = "announced_by"
        case hops
        case eligible
        case excludedReason = "excluded_reason"
        case estimateMs = "estimate_ms"
        case ttfbMs = "ttfb_ms"
        case observers
        case failures
        case ageSeconds = "age_seconds"
        case clients
        case capacity
        case isCurrent = "is_current"
    }

    /// Decodes a gateway row; missing optional fields read as `nil`, missing counts as 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        proxy = try container.decode(String.self, forKey: .proxy)
        origin = try container.decode(String.self, forKey: .origin)
        announcedBy = try container.decodeIfPresent(String.self, forKey: .announcedBy)
        hops = try container.decodeIfPresent(Int.self, forKey: .hops)
        eligible = try container.decode(Bool.self, forKey: .eligible)
        excludedReason = try container.decodeIfPresent(String.self, forKey: .excludedReason)
        estimateMs = try container.decodeIfPresent(Double.self, forKey: .estimateMs)
        ttfbMs = try container.decodeIfPresent(Double.self, forKey: .ttfbMs)
        observers = try container.decodeIfPresent(Int.self, forKey: .observers) ?? 0
        failures = try container.decodeIfPresent(Int.self, forKey: .failures) ?? 0
        ageSeconds = try container.decodeIfPresent(Double.self, forKey: .ageSeconds)
        clients = try container.decodeIfPresent(Int.self, forKey: .clients) ?? 0
        capacity = try container.decodeIfPresent(Int.self, forKey: .capacity)
        isCurrent = try container.decodeIfPresent(Bool.self, forKey: .isCurrent) ?? false
    }

    /// Encodes a gateway row, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(proxy, forKey: .proxy)
        try container.encode(origin, forKey: .origin)
        try container.encode(announcedBy, forKey: .announcedBy)
        try container.encode(hops, forKey: .hops)
        try container.encode(eligible, forKey: .eligible)
        try container.encode(excludedReason, forKey: .excludedReason)
        try container.encode(estimateMs, forKey: .estimateMs)
        try container.encode(ttfbMs, forKey: .ttfbMs)
        try container.encode(observers, forKey: .observers)
        try container.encode(failures, forKey: .failures)
        try container.encode(ageSeconds, forKey: .ageSeconds)
        try container.encode(clients, forKey: .clients)
        try container.encode(capacity, forKey: .capacity)
        try container.encode(isCurrent, forKey: .isCurrent)
    }
}
