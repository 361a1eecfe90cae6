/// The answer of `GET /v1/status`: who this node is and a summary of its membership view.
///
/// JSON keys are snake_case (`uptime_seconds`, `local_health`, ...). Fields are only ever added.
public struct StatusResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// This node's identity and address.
    public var node: NodeInfo
    /// Seconds since the daemon started.
    public var uptimeSeconds: Double
    /// This node's current incarnation (SWIM 4.2): raised to refute a suspicion or on restart.
    public var incarnation: UInt64
    /// How many members the view holds in each state, this node included.
    public var members: MemberCounts
    /// Lifeguard's local health score (3.1): 0 is healthy; each point stretches the probe interval
    /// and timeout by one more period.
    public var localHealth: Int
    /// The protocol period now in force, in milliseconds (the probe interval scaled by local health).
    public var protocolPeriodMs: Int
    /// The quorum view in brief; `null` while this node has not learned a view (joining).
    public var view: ViewSummary?
    /// Admitted keys whose datagrams or relayed items failed verification repeatedly, most
    /// failures first; empty when none (``SuspiciousMember``).
    public var suspicious: [SuspiciousMember]

    /// Creates a status response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - node: this node's identity and address.
    ///   - uptimeSeconds: seconds since the daemon started.
    ///   - incarnation: this node's incarnation.
    ///   - members: member counts by state.
    ///   - localHealth: the Lifeguard local health score.
    ///   - protocolPeriodMs: the current protocol period in milliseconds.
    ///   - view: the quorum view in brief, if this node has one.
    ///   - suspicious: keys with repeated verification failures.
    public init(
        schema: Int = APISchema.version, version: String, node: NodeInfo, uptimeSeconds: Double,
        incarnation: UInt64, members: MemberCounts, localHealth: Int, protocolPeriodMs: Int, view: ViewSummary? = nil,
        suspicious: [SuspiciousMember] = []
    ) {
        self.schema = schema
        self.version = version
        self.node = node
        self.uptimeSeconds = uptimeSeconds
        self.incarnation = incarnation
        self.members = members
        self.localHealth = localHealth
        self.protocolPeriodMs = protocolPeriodMs
        self.view = view
        self.suspicious = suspicious
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case node
        case uptimeSeconds = "uptime_seconds"
        case incarnation
        case members
        case localHealth = "local_health"
        case protocolPeriodMs = "protocol_period_ms"
        case view
        case suspicious
    }

    /// Decodes every field; `suspicious` may be absent (a daemon older than the field).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(Int.self, forKey: .schema)
        version = try container.decode(String.self, forKey: .version)
        node = try container.decode(NodeInfo.self, forKey: .node)
        uptimeSeconds = try container.decode(Double.self, forKey: .uptimeSeconds)
        incarnation = try container.decode(UInt64.self, forKey: .incarnation)
        members = try container.decode(MemberCounts.self, forKey: .members)
        localHealth = try container.decode(Int.self, forKey: .localHealth)
        protocolPeriodMs = try container.decode(Int.self, forKey: .protocolPeriodMs)
        view = try container.decodeIfPresent(ViewSummary.self, forKey: .view)
        suspicious = try container.decodeIfPresent([SuspiciousMember].self, forKey: .suspicious) ?? []
    }

    /// Encodes every field, `view` as `null` when absent (fields are never left out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(version, forKey: .version)
        try container.encode(node, forKey: .node)
        try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try container.encode(incarnation, forKey: .incarnation)
        try container.encode(members, forKey: .members)
        try container.encode(localHealth, forKey: .localHealth)
        try container.encode(protocolPeriodMs, forKey: .protocolPeriodMs)
        try container.encode(view, forKey: .view)
        try container.encode(suspicious, forKey: .suspicious)
    }
}

/// The quorum view as `overlayctl status` shows it (the whole view: `GET /v1/membership`).
public struct ViewSummary: Codable, Sendable, Equatable {
    /// The committed view's epoch.
    public var epoch: UInt64
    /// The number of members in the view.
    public var size: Int
    /// View members reachable from this node, itself included.
    public var reachable: Int
    /// Whether this node is a member and a majority of the view is reachable.
    public var quorum: Bool
    /// Whether this node is a member of the view.
    public var isMember: Bool

    /// Creates a summary.
    public init(epoch: UInt64, size: Int, reachable: Int, quorum: Bool, isMember: Bool) {
        self.epoch = epoch
        self.size = size
        self.reachable = reachable
        self.quorum = quorum
        self.isMember = isMember
    }

    enum CodingKeys: String, CodingKey {
        case epoch, size, reachable, quorum
        case isMember = "is_member"
    }
}

/// This node's identity as the status route reports it.
///
/// The ID is the node's Ed25519 public key; the name and endpoint are attributes it announces.
public struct NodeInfo: Codable, Sendable, Equatable {
    /// The node's ID: its public key as 64 lowercase hex characters.
    public var id: String
    /// The name the node announces.
    public var name: String
    /// Where the node receives datagrams, as `host:port` (`[v6]:port` for IPv6).
    public var endpoint: String

    /// Creates a node description.
    ///
    /// - Parameters:
    ///   - id: the full hex public key.
    ///   - name: the announced name.
    ///   - endpoint: the announced `host:port`.
    public init(id: String, name: String, endpoint: String) {
        self.id = id
        self.name = name
        self.endpoint = endpoint
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case endpoint
    }
}

/// How many members the view holds in each state.
///
/// The counts include this node (as `serf members` does), so a lone node reports one alive member.
public struct MemberCounts: Codable, Sendable, Equatable {
    /// Members answering probes.
    public var alive: Int
    /// Members suspected and not yet refuted.
    public var suspect: Int
    /// Members declared failed and still remembered.
    public var failed: Int
    /// Members that left gracefully and are still remembered.
    public var left: Int
    /// All members in the view: the sum of the other four.
    public var total: Int

    /// Creates member counts.
    ///
    /// - Parameters:
    ///   - alive: alive members.
    ///   - suspect: suspect members.
    ///   - failed: failed members.
    ///   - left: members that left.
    ///   - total: all members; defaults to the sum of the others.
    public init(alive: Int, suspect: Int, failed: Int, left: Int, total: Int? = nil) {
        self.alive = alive
        self.suspect = suspect
        self.failed = failed
        self.left = left
        self.total = total ?? (alive + suspect + failed + left)
    }

    enum CodingKeys: String, CodingKey {
        case alive
        case suspect
        case failed
        case left
        case total
    }
}
