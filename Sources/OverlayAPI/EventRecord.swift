/// One event of `GET /v1/events`: a change in this node's membership view, its gateway
/// selection, its quorum view, or its quorum.
///
/// The stream is newline-delimited JSON: each record is one line of compact JSON (sorted keys),
/// ended by `\n`. ``type`` says which of the four payloads is set; the other three are `null`.
/// A client skips records whose ``type`` it does not know: types are only ever added.
///
/// ```json
/// {"at_ms":1714557600123,"member":{"from":"alive","id":"3c3c...","incarnation":7,"name":"gw-raval","to":"suspect"},"quorum":null,"schema":1,"selection":null,"type":"member","view":null}
/// ```
public struct EventRecord: Codable, Sendable, Equatable {
    /// The values of ``type`` this schema defines.
    public static let types = ["member", "selection", "view", "quorum"]

    /// The schema version of this record (``APISchema/version``).
    public var schema: Int
    /// Which payload is set: `member`, `selection`, `view` or `quorum` (see ``types``). Kept a
    /// string so that a client reads a type added by a newer daemon (and skips it).
    public var type: String
    /// When it happened, in milliseconds since the Unix epoch (the daemon's wall clock).
    public var atMs: Int64
    /// A member changed state; set when ``type`` is `member`.
    public var member: MemberEvent?
    /// The selected gateway changed; set when ``type`` is `selection`.
    public var selection: SelectionEvent?
    /// The quorum view committed a new epoch; set when ``type`` is `view`.
    public var view: ViewEvent?
    /// This node gained or lost quorum; set when ``type`` is `quorum`.
    public var quorum: QuorumEvent?

    /// Creates an event record; prefer the typed factories (``member(_:atMs:)``, ...).
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - type: which payload is set.
    ///   - atMs: Unix time in milliseconds.
    ///   - member: the member payload, or `nil`.
    ///   - selection: the selection payload, or `nil`.
    ///   - view: the view payload, or `nil`.
    ///   - quorum: the quorum payload, or `nil`.
    public init(
        schema: Int = APISchema.version, type: String, atMs: Int64, member: MemberEvent? = nil,
        selection: SelectionEvent? = nil, view: ViewEvent? = nil, quorum: QuorumEvent? = nil
    ) {
        self.schema = schema
        self.type = type
        self.atMs = atMs
        self.member = member
        self.selection = selection
        self.view = view
        self.quorum = quorum
    }

    /// A `member` event.
    ///
    /// - Parameters:
    ///   - event: what changed.
    ///   - atMs: Unix time in milliseconds.
    /// - Returns: the record.
    public static func member(_ event: MemberEvent, atMs: Int64) -> EventRecord {
        EventRecord(type: "member", atMs: atMs, member: event)
    }

    /// A `selection` event.
    ///
    /// - Parameters:
    ///   - event: what changed.
    ///   - atMs: Unix time in milliseconds.
    /// - Returns: the record.
    public static func selection(_ event: SelectionEvent, atMs: Int64) -> EventRecord {
        EventRecord(type: "selection", atMs: atMs, selection: event)
    }

    /// A `view` event.
    ///
    /// - Parameters:
    ///   - event: the new view.
    ///   - atMs: Unix time in milliseconds.
    /// - Returns: the record.
    public static func view(_ event: ViewEvent, atMs: Int64) -> EventRecord {
        EventRecord(type: "view", atMs: atMs, view: event)
    }

    /// A `quorum` event.
    ///
    /// - Parameters:
    ///   - event: the new quorum state.
    ///   - atMs: Unix time in milliseconds.
    /// - Returns: the record.
    public static func quorum(_ event: QuorumEvent, atMs: Int64) -> EventRecord {
        EventRecord(type: "quorum", atMs: atMs, quorum: event)
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case type
        case atMs = "at_ms"
        case member
        case selection
        case view
        case quorum
    }

    /// Decodes a record; missing payloads read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(Int.self, forKey: .schema)
        type = try container.decode(String.self, forKey: .type)
        atMs = try container.decode(Int64.self, forKey: .atMs)
        member = try container.decodeIfPresent(MemberEvent.self, forKey: .member)
        selection = try container.decodeIfPresent(SelectionEvent.self, forKey: .selection)
        view = try container.decodeIfPresent(ViewEvent.self, forKey: .view)
        quorum = try container.decodeIfPresent(QuorumEvent.self, forKey: .quorum)
    }

    /// Encodes a record, writing `null` for the payloads that are not set.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(type, forKey: .type)
        try container.encode(atMs, forKey: .atMs)
        try container.encode(member, forKey: .member)
        try container.encode(selection, forKey: .selection)
        try container.encode(view, forKey: .view)
        try container.encode(quorum, forKey: .quorum)
    }
}

/// A member of the view changed state (joined, became suspect, failed, left, or came back).
public struct MemberEvent: Codable, Sendable, Equatable {
    /// The member's ID: its public key as 64 lowercase hex characters.
    public var id: String
    /// The name it announces.
    public var name: String
    /// Its state before (`alive`, `suspect`, `failed`, `left`); `nil` when it just joined the view.
    public var from: String?
    /// Its state now; `nil` when it was removed from the view.
    public var to: String?
    /// Its incarnation (SWIM 4.2) after the change.
    public var incarnation: UInt64

    /// Creates a member event.
    ///
    /// - Parameters:
    ///   - id: the member's hex ID.
    ///   - name: its name.
    ///   - from: the state before, or `nil` for a new member.
    ///   - to: the state now, or `nil` when removed.
    ///   - incarnation: its incarnation.
    public init(id: String, name: String, from: String?, to: String?, incarnation: UInt64) {
        self.id = id
        self.name = name
        self.from = from
        self.to = to
        self.incarnation = incarnation
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case from
        case to
        case incarnation
    }

    /// Decodes a member event; missing optional fields read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        from = try container.decodeIfPresent(String.self, forKey: .from)
        to = try container.decodeIfPresent(String.self, forKey: .to)
        incarnation = try container.decode(UInt64.self, forKey: .incarnation)
    }

    /// Encodes a member event, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(incarnation, forKey: .incarnation)
    }
}

/// This node's selected gateway changed: the event a local proxy switcher follows.
public struct SelectionEvent: Codable, Sendable, Equatable {
    /// The gateway used before (a ``GatewayInfo/id``); `nil` when there was none.
    public var from: String?
    /// The gateway used now; `nil` when no gateway is usable.
    public var to: String?
    /// Why the round started, as ``SelectionResponse/reason``'s labels (`periodic`, `requested`, ...).
    public var reason: String
    /// One sentence saying why the round chose what it chose.
    public var explanation: String

    /// Creates a selection event.
    ///
    /// - Parameters:
    ///   - from: the gateway before, or `nil`.
    ///   - to: the gateway now, or `nil`.
    ///   - reason: the round's reason label.
    ///   - explanation: the decision's sentence.
    public init(from: String?, to: String?, reason: String, explanation: String) {
        self.from = from
        self.to = to
        self.reason = reason
        self.explanation = explanation
    }

    enum CodingKeys: String, CodingKey {
        case from
        case to
        case reason
        case explanation
    }

    /// Decodes a selection event; missing optional fields read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        from = try container.decodeIfPresent(String.self, forKey: .from)
        to = try container.decodeIfPresent(String.self, forKey: .to)
        reason = try container.decode(String.self, forKey: .reason)
        explanation = try container.decodeIfPresent(String.self, forKey: .explanation) ?? ""
    }

    /// Encodes a selection event, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(reason, forKey: .reason)
        try container.encode(explanation, forKey: .explanation)
    }
}

/// The quorum view committed a new epoch (a member was admitted or removed by a majority).
public struct ViewEvent: Codable, Sendable, Equatable {
    /// The new epoch.
    public var epoch: UInt64
    /// The IDs (hex) of the view's members in this epoch, sorted.
    public var members: [String]

    /// Creates a view event.
    ///
    /// - Parameters:
    ///   - epoch: the new epoch.
    ///   - members: the members' hex IDs.
    public init(epoch: UInt64, members: [String]) {
        self.epoch = epoch
        self.members = members
    }

    enum CodingKeys: String, CodingKey {
        case epoch
        case members
    }
}

/// This node gained or lost quorum: whether the members it can reach are a majority of its view.
public struct QuorumEvent: Codable, Sendable, Equatable {
    /// Whether this node's side has quorum now.
    public var hasQuorum: Bool
    /// Members of the view this node can reach, itself included.
    public var reachable: Int
    /// Members of the view.
    public var viewSize: Int

    /// Creates a quorum event.
    ///
    /// - Parameters:
    ///   - hasQuorum: whether the reachable members are a majority.
    ///   - reachable: reachable members, this node included.
    ///   - viewSize: members of the view.
    public init(hasQuorum: Bool, reachable: Int, viewSize: Int) {
        self.hasQuorum = hasQuorum
        self.reachable = reachable
        self.viewSize = viewSize
    }

    enum CodingKeys: String, CodingKey {
        case hasQuorum = "has_quorum"
        case reachable
        case viewSize = "view_size"
    }
}
