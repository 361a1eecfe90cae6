import OverlayCore

/// Everything a ``NodeRuntime`` needs, resolved from the config file and flags.
public struct RuntimeOptions: Sendable {
    /// Name, advertised endpoint and protocol timings.
    public var agent: AgentSettings
    /// The UDP address to bind.
    public var bind: PeerEndpoint
    /// The state directory (key, snapshot).
    public var stateDirectory: StateDirectory
    /// The keyring file.
    public var keyringPath: String
    /// Seed endpoints to join through (may be empty when a snapshot exists).
    public var seeds: [PeerEndpoint]
    /// The daemon's version string, reported by the API.
    public var version: String
    /// Gateway selection (`[gateways]`, `[gateway]`); `nil` turns it off (gateway items are
    /// then only relayed).
    public var gateways: GatewayRuntimeOptions? = nil
    /// The configuration these options were resolved from; a reload compares the new one with
    /// it to say which changed keys need a restart. `nil` when the options were built directly.
    public var configuration: NodeConfiguration? = nil
    /// Re-reads the config file and flags for a reload (SIGHUP, `POST /v1/reload`); `nil`
    /// re-reads only the keyring.
    public var reread: (@Sendable () throws -> NodeConfiguration)? = nil

    /// Creates options.
    public init(agent: AgentSettings, bind: PeerEndpoint, stateDirectory: StateDirectory, keyringPath: String, seeds: [PeerEndpoint], version: String) {
        self.agent = agent
        self.bind = bind
        self.stateDirectory = stateDirectory
        self.keyringPath = keyringPath
        self.seeds = seeds
        self.version = version
    }
}
