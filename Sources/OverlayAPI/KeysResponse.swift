/// `GET /v1/keys` and the answer of every key change (`POST /v1/keys/add`, `/v1/keys/roll`,
/// `/v1/keys/retire`, `/v1/keys/revoke`): the keys this node knows and the standing of each.
public struct KeysResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// This node's own key now.
    public var localKey: String
    /// Every key listed in the keyring file or admitted as a successor, sorted by ID.
    public var keys: [KeyInfo]
    /// What the change did, in one sentence; empty for `GET /v1/keys`.
    public var message: String

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - localKey: this node's key, hex.
    ///   - keys: the rows.
    ///   - message: what a change did.
    public init(schema: Int = APISchema.version, version: String = "", localKey: String, keys: [KeyInfo], message: String = "") {
        self.schema = schema
        self.version = version
        self.localKey = localKey
        self.keys = keys
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case schema, version, keys, message
        case localKey = "local_key"
    }
}

/// One key as this node sees it.
public struct KeyInfo: Codable, Sendable, Equatable {
    /// The public key, 64 hex digits.
    public var id: String
    /// The keyring file's label, or for a successor its predecessor's label.
    public var label: String?
    /// When the key became (or becomes) admitted, RFC 3339 UTC; `nil`: from the beginning.
    public var validFrom: String?
    /// When it stops being admitted, RFC 3339 UTC; `nil`: never, as far as known.
    public var validUntil: String?
    /// `pending`, `active`, `overlap` (rolled over, still admitted), `retired` or `revoked`.
    public var state: String
    /// `keyring` (listed in the file) or `roll` (admitted as a successor).
    public var source: String
    /// The key it was rolled from, for a successor.
    public var predecessor: String?
    /// The key it rolled to, if it did.
    public var successor: String?
    /// Whether it may revoke any key (`role=operator` in the keyring file).
    public var isOperator: Bool
    /// Whether it is this node's own key.
    public var isLocal: Bool

    /// Creates a row.
    public init(
        id: String, label: String?, validFrom: String?, validUntil: String?, state: String, source: String,
        predecessor: String? = nil, successor: String? = nil, isOperator: Bool = false, isLocal: Bool = false
    ) {
        self.id = id
        self.label = label
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.state = state
        self.source = source
        self.predecessor = predecessor
        self.successor = successor
        self.isOperator = isOperator
        self.isLocal = isLocal
    }

    enum CodingKeys: String, CodingKey {
        case id, label, state, source, predecessor, successor
        case validFrom = "valid_from"
        case validUntil = "valid_until"
        case isOperator = "operator"
        case isLocal = "local"
    }
}
