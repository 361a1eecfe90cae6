/// `POST /v1/reload`: what a reload of the config file and the keyring changed.
///
/// A refused reload (the new config or keyring is invalid) is not this body but an error,
/// HTTP 422 with code ``APIErrorCode/invalidConfig`` and the reason; the old settings stay.
public struct ReloadResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// `true` when the new configuration is in force; `false` when it was refused.
    public var reloaded: Bool
    /// The config file read, or `nil` when the daemon runs on defaults and flags only.
    public var source: String?
    /// The admitted keys after the reload.
    public var keyringKeys: Int
    /// What changed and is now in force, for example `keyring` or `gateways (restarted)`.
    public var applied: [String]
    /// Keys whose new value needs a restart to take effect (`network.bind`, ...); their old
    /// values stay in force until then.
    public var restartRequired: [String]
    /// One sentence for the operator: what happened, or why the reload was refused.
    public var message: String

    /// Creates a reload response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - reloaded: whether the new configuration is in force.
    ///   - source: the config file read.
    ///   - keyringKeys: the admitted keys after the reload.
    ///   - applied: what changed.
    ///   - restartRequired: keys that need a restart.
    ///   - message: one sentence for the operator.
    public init(
        schema: Int = APISchema.version, version: String = "", reloaded: Bool, source: String?, keyringKeys: Int,
        applied: [String], restartRequired: [String], message: String
    ) {
        self.schema = schema
        self.version = version
        self.reloaded = reloaded
        self.source = source
        self.keyringKeys = keyringKeys
        self.applied = applied
        self.restartRequired = restartRequired
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case reloaded
        case source
        case keyringKeys = "keyring_keys"
        case applied
        case restartRequired = "restart_required"
        case message
    }
}

extension APIErrorCode {
    /// A reload was refused because the config file or the keyring is invalid; the message
    /// names the file, the key and what to write (HTTP 422). The old settings stay in force.
    public static let invalidConfig = APIErrorCode("invalid_config")
}
