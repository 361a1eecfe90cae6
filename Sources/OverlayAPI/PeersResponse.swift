/// The answer of `GET /v1/peers`: every member of the view that matches the request's filters.
///
/// The local node is one of the rows (``PeerInfo/isLocal`` is `true`), as in `serf members`.
public struct PeersResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// The members: the local node first, then the others by name and then by ID.
    public var peers: [PeerInfo]

    /// Creates a peers response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - peers: the members to report.
    public init(schema: Int = APISchema.version, version: String, peers: [PeerInfo]) {
        self.schema = schema
        self.version = version
        self.peers = peers
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case peers
    }
}

/// One member of the view, as `GET /v1/peers` reports it.
///
/// Optional fields are always present in the JSON, as `null` when unknown, so a script can tell
/// "never heard" from "field missing in an older daemon".
public struct PeerInfo: Codable, Sendable, Equatable {
    /// The member states the API reports, in SWIM's precedence order (the values of ``state``).
    public static let states = ["alive", "suspect", "failed", "left"]

    /// The member's ID: its public key as 64 lowercase hex characters.
    public var id: String
    /// The name the member announces.
    public var name: String
    /// Where the member receives datagrams, as `host:port` (`[v6]:port` for IPv6).
    public var address: String
    /// Its state: `alive`, `suspect`, `failed` or `left` (see ``states``). Kept a string so that a
    /// client reads a state added by a newer daemon.
    public var state: String
    /// Its incarnation (SWIM 4.2), raised only by the member itself.
    public var incarnation: UInt64
    /// Seconds since this node last received a verified datagram from the member; `nil` when
    /// never. The local row's value means nothing (tables show `self`).
    public var lastHeardSecondsAgo: Double?
    /// The smoothed round-trip time of direct probes in milliseconds; `nil` when never measured.
    public var roundTripMs: Double?
    /// `true` for the row that describes this node itself.
    public var isLocal: Bool

    /// Creates a peer row.
    ///
    /// - Parameters:
    ///   - id: the full hex public key.
    ///   - name: the announced name.
    ///   - address: the announced `host:port`.
    ///   - state: one of ``states``.
    ///   - incarnation: the member's incarnation.
    ///   - lastHeardSecondsAgo: seconds since last heard, or `nil`.
    ///   - roundTripMs: smoothed round trip in milliseconds, or `nil`.
    ///   - isLocal: whether this row is the local node.
    public init(
        id: String, name: String, address: String, state: String, incarnation: UInt64,
        lastHeardSecondsAgo: Double?, roundTripMs: Double?, isLocal: Bool
    ) {
        self.id = id
        self.name = name
        self.address = address
        self.state = state
        self.incarnation = incarnation
        self.lastHeardSecondsAgo = lastHeardSecondsAgo
        self.roundTripMs = roundTripMs
        self.isLocal = isLocal
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case address
        case state
        case incarnation
        case lastHeardSecondsAgo = "last_heard_seconds_ago"
        case roundTripMs = "round_trip_ms"
        case isLocal = "is_local"
    }

    /// Decodes a peer row; missing optional fields read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        address = try container.decode(String.self, forKey: .address)
        state = try container.decode(String.self, forKey: .state)
        incarnation = try container.decode(UInt64.self, forKey: .incarnation)
        lastHeardSecondsAgo = try container.decodeIfPresent(Double.self, forKey: .lastHeardSecondsAgo)
        roundTripMs = try container.decodeIfPresent(Double.self, forKey: .roundTripMs)
        isLocal = try container.decodeIfPresent(Bool.self, forKey: .isLocal) ?? false
    }

    /// Encodes a peer row, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(address, forKey: .address)
        try container.encode(state, forKey: .state)
        try container.encode(incarnation, forKey: .incarnation)
        try container.encode(lastHeardSecondsAgo, forKey: .lastHeardSecondsAgo)
        try container.encode(roundTripMs, forKey: .roundTripMs)
        try container.encode(isLocal, forKey: .isLocal)
    }
}
