/// `GET /v1/membership`: the quorum view (who the members are, at which epoch) and whether this
/// node's side of the network holds a majority of it.
public struct MembershipResponse: Codable, Sendable, Equatable {
    /// The API schema version (``APISchema/version``).
    public var schema: Int
    /// The daemon's version.
    public var version: String
    /// The committed view's epoch; `nil` while this node has not learned a view (joining).
    public var epoch: UInt64?
    /// The view's lineage (hex), which identifies the cloud.
    public var lineage: String?
    /// The view's members.
    public var members: [ViewMemberInfo]
    /// Whether this node is a member and a majority of the view is reachable from it.
    public var quorum: Bool
    /// View members reachable from this node (itself included).
    public var reachable: Int
    /// The number of view members.
    public var viewSize: Int
    /// The majority of the view: the votes a change needs.
    public var majority: Int
    /// Whether this node is a member of the view.
    public var isMember: Bool
    /// The current voting round at this epoch.
    public var round: UInt32
    /// Changes voted for at this epoch, with their endorsements.
    public var proposals: [ProposalInfo]

    /// Creates a response.
    public init(
        schema: Int = APISchema.version, version: String, epoch: UInt64?, lineage: String?, members: [ViewMemberInfo],
        quorum: Bool, reachable: Int, viewSize: Int, majority: Int, isMember: Bool, round: UInt32, proposals: [ProposalInfo]
    ) {
        self.schema = schema
        self.version = version
        self.epoch = epoch
        self.lineage = lineage
        self.members = members
        self.quorum = quorum
        self.reachable = reachable
        self.viewSize = viewSize
        self.majority = majority
        self.isMember = isMember
        self.round = round
        self.proposals = proposals
    }

    enum CodingKeys: String, CodingKey {
        case schema, version, epoch, lineage, members, quorum, reachable, majority, round, proposals
        case viewSize = "view_size"
        case isMember = "is_member"
    }

    /// Encodes every field; absent values as `null` (fields are never left out).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(version, forKey: .version)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(lineage, forKey: .lineage)
        try container.encode(members, forKey: .members)
        try container.encode(quorum, forKey: .quorum)
        try container.encode(reachable, forKey: .reachable)
        try container.encode(viewSize, forKey: .viewSize)
        try container.encode(majority, forKey: .majority)
        try container.encode(isMember, forKey: .isMember)
        try container.encode(round, forKey: .round)
        try container.encode(proposals, forKey: .proposals)
    }
}

/// One member of the view, with what SWIM says about it here.
public struct ViewMemberInfo: Codable, Sendable, Equatable {
    /// The member's ID (hex).
    public var id: String
    /// Its announced name, if known.
    public var name: String?
    /// Its SWIM state here (`alive`, `suspect`, `failed`, `left`), or `nil` if unknown.
    public var state: String?
    /// Whether it counts as reachable for quorum.
    public var reachable: Bool

    /// Creates an entry.
    public init(id: String, name: String?, state: String?, reachable: Bool) {
        self.id = id
        self.name = name
        self.state = state
        self.reachable = reachable
    }

    enum CodingKeys: String, CodingKey {
        case id, name, state, reachable
    }

    /// Encodes every field; absent values as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(state, forKey: .state)
        try container.encode(reachable, forKey: .reachable)
    }
}

/// A change voted for at the current epoch.
public struct ProposalInfo: Codable, Sendable, Equatable {
    /// The voting round.
    public var round: UInt32
    /// Members it admits (hex IDs).
    public var add: [String]
    /// Members it removes (hex IDs).
    public var remove: [String]
    /// The members that voted for it (hex IDs).
    public var endorsements: [String]
    /// The votes it needs to commit (the view's majority).
    public var needed: Int

    /// Creates an entry.
    public init(round: UInt32, add: [String], remove: [String], endorsements: [String], needed: Int) {
        self.round = round
        self.add = add
        self.remove = remove
        self.endorsements = endorsements
        self.needed = needed
    }
}
