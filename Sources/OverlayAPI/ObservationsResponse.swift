/// The answer of `GET /v1/observations`: the fresh gateway measurements this node holds, its own
/// and those gossiped by the cloud, after the request's filters.
///
/// One row per (observer, gateway): the latest measurement of each. Rows are sorted by gateway,
/// then observer. Fields are only ever added.
public struct ObservationsResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// The observations, by gateway and then by observer.
    public var observations: [ObservationInfo]

    /// Creates an observations response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - observations: the observations to report.
    public init(schema: Int = APISchema.version, version: String, observations: [ObservationInfo]) {
        self.schema = schema
        self.version = version
        self.observations = observations
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case observations
    }
}

/// One measurement of one gateway by one node: an HTTP GET of a small object through the
/// gateway's proxy, signed by its observer and gossiped.
///
/// A success has ``ok`` `true` and a ``contentLatencyMs``; a failure has ``ok`` `false` and a
/// ``failure`` label. Optional fields are always present in the JSON, as `null` when unknown.
public struct ObservationInfo: Codable, Sendable, Equatable {
    /// The observer's ID: its public key as 64 lowercase hex characters.
    public var observer: String
    /// The observer's name, when it is a known member; `nil` otherwise.
    public var observerName: String?
    /// The gateway measured (its ``GatewayInfo/id``).
    public var gateway: String
    /// Whether the probe delivered the probe object.
    public var ok: Bool
    /// Why the probe failed, as a stable label (`timeout`, `connect_failed`, `http_status`,
    /// `short_body`, `proxy_refused`; a later daemon may add labels); `nil` on success.
    public var failure: String?
    /// Time from the request to the last byte of the probe object, in milliseconds; `nil` on failure.
    public var contentLatencyMs: Double?
    /// Time from the request to the first byte of the answer, in milliseconds; `nil` when none came.
    public var ttfbMs: Double?
    /// Bytes of the probe object received.
    public var bytes: Int
    /// The observer's hop count to the gateway when it measured; `nil` when it did not know.
    public var hops: Int?
    /// Seconds since the probe started, by this node's clock.
    public var ageSeconds: Double
    /// The observer's sequence number for this gateway (at least the Unix time in ms when taken).
    public var sequence: UInt64

    /// Creates an observation row.
    ///
    /// - Parameters:
    ///   - observer: the observer's hex ID.
    ///   - observerName: its name, or `nil`.
    ///   - gateway: the gateway's ID.
    ///   - ok: whether the probe succeeded.
    ///   - failure: the failure label, or `nil`.
    ///   - contentLatencyMs: content latency in milliseconds, or `nil`.
    ///   - ttfbMs: time to first byte in milliseconds, or `nil`.
    ///   - bytes: bytes received.
    ///   - hops: the observer's hops to the gateway, or `nil`.
    ///   - ageSeconds: seconds since it was taken.
    ///   - sequence: the observer's sequence number.
    public init(
        observer: String, observerName: String?, gateway: String, ok: Bool, failure: String?,
        contentLatencyMs: Double?, ttfbMs: Double?, bytes: Int, hops: Int?, ageSeconds: Double, sequence: UInt64
    ) {
        self.observer = observer
        self.observerName = observerName
        self.gateway = gateway
        self.ok = ok
        self.failure = failure
        self.contentLatencyMs = contentLatencyMs
        self.ttfbMs = ttfbMs
        self.bytes = bytes
        self.hops = hops
        self.ageSeconds = ageSeconds
        self.sequence = sequence
    }

    enum CodingKeys: String, CodingKey {
        case observer
        case observerName = "observer_name"
        case gateway
        case ok
        case failure
        case contentLatencyMs = "content_latency_ms"
        case ttfbMs = "ttfb_ms"
        case bytes
        case hops
        case ageSeconds = "age_seconds"
        case sequence
    }

    /// Decodes an observation row; missing optional fields read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        observer = try container.decode(String.self, forKey: .observer)
        observerName = try container.decodeIfPresent(String.self, forKey: .observerName)
        gateway = try container.decode(String.self, forKey: .gateway)
        ok = try container.decode(Bool.self, forKey: .ok)
        failure = try container.decodeIfPresent(String.self, forKey: .failure)
        contentLatencyMs = try container.decodeIfPresent(Double.self, forKey: .contentLatencyMs)
        ttfbMs = try container.decodeIfPresent(Double.self, forKey: .ttfbMs)
        bytes = try container.decodeIfPresent(Int.self, forKey: .bytes) ?? 0
        hops = try container.decodeIfPresent(Int.self, forKey: .hops)
        ageSeconds = try container.decode(Double.self, forKey: .ageSeconds)
        sequence = try container.decode(UInt64.self, forKey: .sequence)
    }

    /// Encodes an observation row, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(observer, forKey: .observer)
        try container.encode(observerName, forKey: .observerName)
        try container.encode(gateway, forKey: .gateway)
        try container.encode(ok, forKey: .ok)
        try container.encode(failure, forKey: .failure)
        try container.encode(contentLatencyMs, forKey: .contentLatencyMs)
        try container.encode(ttfbMs, forKey: .ttfbMs)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(hops, forKey: .hops)
        try container.encode(ageSeconds, forKey: .ageSeconds)
        try container.encode(sequence, forKey: .sequence)
    }
}
