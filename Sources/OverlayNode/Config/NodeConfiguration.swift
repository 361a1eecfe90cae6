import Foundation
import Logging
import OverlayCore

/// Every setting of one `overlayd` node, with its default.
///
/// The properties follow the tables of the config file (`[node]`, `[network]`, `[api]`,
/// `[membership]`, `[security]`, `[log]`); `Docs/configuration.md` lists every key with its type,
/// unit, default and the reason for that default, and `Examples/overlayd.toml` is a complete file.
/// A value is built in three layers, the later winning: these defaults, the config file
/// (``ConfigFile/parse(text:source:)``), the command-line flags (``ConfigOverrides``).
/// ``ConfigFile/resolve(path:overrides:defaultPath:)`` does all three and validates the result.
///
/// Membership timings are kept as a preset name plus the keys the operator set
/// (``membershipTuning``), not as finished settings, so that `--preset fast` on the command line
/// still honours a `probe_interval_ms` written in the file. ``membership`` gives the result.
public struct NodeConfiguration: Sendable, Equatable {
    // MARK: [node]

    /// `node.name`: the name this node announces to the others, shown by `overlayctl peers`.
    ///
    /// Default: the host name (`gethostname`), as Serf does, because that is what an operator
    /// recognises. At most 64 bytes (the kernel's host name limit), since it travels in every
    /// alive claim inside a datagram of about 1,200 bytes. Identity is the key, not the name:
    /// two nodes may share a name without confusion.
    public var name: String = ConfigDefaults.hostName()

    /// `node.state_dir`: the directory holding this node's identity key (`node.key`), the
    /// keyring (`keyring`, unless `network.keyring` says otherwise) and the snapshot of known
    /// peers (`peers.json`).
    ///
    /// Default `/var/lib/overlayd`, the Debian place for a daemon's persistent state (systemd's
    /// `StateDirectory=overlayd`). Relative paths are taken from the working directory.
    public var stateDir: String = ConfigDefaults.stateDirectory

    // MARK: [network]

    /// `network.bind`: the UDP address and port this node listens on.
    ///
    /// Default `0.0.0.0:7946`: every IPv4 interface, since a mesh node usually has several radio
    /// and wired interfaces; 7946 is Serf's port, which mesh firewalls often already open.
    public var bind: PeerEndpoint = ConfigDefaults.bind

    /// `network.advertise`: the address and port other nodes use to reach this one.
    ///
    /// Default `nil`: the ``bind`` address when it is a specific address. When ``bind`` is a
    /// wildcard (`0.0.0.0`, `[::]`) this must be set, because a wildcard cannot be reached;
    /// guessing an interface on a node with several is how gossip agents end up announcing a
    /// private or link-local address. See ``advertisedEndpoint``.
    public var advertise: PeerEndpoint? = nil

    /// `network.seeds`: nodes to contact when this one knows nobody (first start, or every
    /// member of the snapshot gone).
    ///
    /// Default empty: a node with no seeds and no snapshot waits to be contacted. Two or three
    /// stable nodes of the cloud are enough; a node may list itself.
    public var seeds: [PeerEndpoint] = []

    /// `network.keyring`: the file listing the admitted public keys, as set in the config.
    ///
    /// Default `nil`, meaning `<state_dir>/keyring`; see ``keyringPath`` for the path in force.
    public var keyring: String? = nil

    // MARK: [api]

    /// `api.socket`: the Unix socket of the local HTTP/JSON API that `overlayctl` talks to.
    ///
    /// Default `/run/overlayd/overlayd.sock` (systemd's `RuntimeDirectory=overlayd`): a socket
    /// is runtime state that must not survive a reboot. At most 107 bytes, the limit of a Unix
    /// socket address.
    public var socket: String = ConfigDefaults.socket

    /// `api.socket_mode`: the permission bits of the API socket, which decide who may use the API.
    ///
    /// Default `0o660`: the daemon's user and group may read and write (members of the
    /// `overlayd` group run `overlayctl` without root), others may not connect at all. Written
    /// in the file as an octal string, `"0660"`.
    public var socketMode: mode_t = ConfigDefaults.socketMode

    /// `api.socket_group`: the group the API socket gets, by name or number.
    ///
    /// Default `nil`: the daemon's own group (`overlayd` in the package). Set it to let a local
    /// group other than the daemon's use `overlayctl`; the daemon's user must belong to it.
    public var socketGroup: String? = nil

    /// The group ID of `api.socket_group`, or `nil` when it is unset.
    public var socketGroupID: gid_t? { socketGroup.flatMap(Self.socketGroupID) }

    /// A group's ID from its name or number; `nil` if this system has no such group.
    public static func socketGroupID(_ text: String) -> gid_t? {
        if let group = getgrnam(text) { return group.pointee.gr_gid }
        if let number = UInt32(text), getgrgid(gid_t(number)) != nil { return gid_t(number) }
        return nil
    }

    /// `api.metrics_address`: a TCP address serving `GET /metrics` only. Default `nil`: metrics
    /// are served on the API socket alone, whose file mode protects them.
    public var metricsAddress: PeerEndpoint? = nil

    // MARK: [membership]

    /// `membership.preset`: the named set of SWIM and Lifeguard timings the overrides start from,
    /// a key of ``MembershipSettings/presets``.
    ///
    /// Default `"radio"`, for lossy multi-hop radio links. `"lan"` is memberlist's LAN profile
    /// (for comparison with Serf), `"fast"` is five times faster, for loopback tests and demos.
    public var membershipPreset: String = ConfigDefaults.preset

    /// The `[membership]` keys the operator set, each replacing the preset's value.
    public var membershipTuning = MembershipTuning()

    // MARK: [security]

    /// `security.clock_skew_window_s`: how far a sender's clock may be from ours before its
    /// datagrams are refused; `nil` (written `0`) disables the check.
    ///
    /// Default 600 s: it bounds how long a captured datagram can be replayed to a node that has
    /// just restarted, yet tolerates the drift of boxes without a real-time clock that wait for
    /// NTP. Mirrors ``AgentSettings/clockSkewWindow``.
    public var clockSkewWindow: Duration? = ConfigDefaults.agent.clockSkewWindow

    /// `security.sender_rate_per_second`: datagrams per second one sender may sustain before
    /// the excess is dropped unverified.
    ///
    /// Default 200: SWIM sends about 2 per second, a push-pull of 1,000 members about 150 at
    /// once. Mirrors ``AgentSettings/senderRatePerSecond``.
    public var senderRatePerSecond: Double = ConfigDefaults.agent.senderRatePerSecond

    /// `security.sender_burst`: datagrams one sender may send at once (the token bucket's depth).
    ///
    /// Default 400: two full push-pulls back to back. Mirrors ``AgentSettings/senderBurst``.
    public var senderBurst: Double = ConfigDefaults.agent.senderBurst

    // MARK: [log]

    /// `log.level`: the least severe log level written.
    ///
    /// Default `info`: membership changes and selections, one line each, nothing per datagram.
    public var logLevel: Logger.Level = .info

    /// `log.format`: how log lines are written to standard error.
    ///
    /// Default ``LogFormat/text``, for people reading `journalctl`; ``LogFormat/json`` for log
    /// collectors. (``LogFormat`` is the type ``StructuredLogHandler`` takes.)
    public var logFormat: LogFormat = .text

    // MARK: [gateways] and [gateway]

    /// `[gateways]`: the gateways this node may use, the HTTP probe, the strategy, the
    /// preferences and the hop source (``GatewaysConfiguration``). Default: no declared
    /// gateway (the node uses announced ones), collaborative RIMO, the `standard` preset.
    public var gateways = GatewaysConfiguration()

    /// `[gateway]`: the gateway this node runs and announces, if any. Default none.
    public var localGateway: LocalGatewayConfiguration? = nil

    // MARK: Provenance

    /// The config file these settings were read from, or `nil` when none was read. Error
    /// messages about the finished configuration name it.
    public var source: String? = nil

    /// Creates the built-in defaults.
    public init() {}

    // MARK: Derived values

    /// The SWIM and Lifeguard timings in force: the preset with the operator's keys applied.
    ///
    /// An unknown preset name (which validation rejects) falls back to ``MembershipSettings/radio``.
    public var membership: MembershipSettings {
        membershipTuning.applied(to: MembershipSettings.presets[membershipPreset] ?? .radio)
    }

    /// The address announced to the others: ``advertise``, else ``bind`` unless it is a wildcard;
    /// `nil` when neither can be announced (validation rejects that configuration).
    public var advertisedEndpoint: PeerEndpoint? {
        if let advertise { return advertise }
        return Self.isWildcard(bind) ? nil : bind
    }

    /// The identity key: `<state_dir>/node.key` (mode 0600).
    public var keyPath: String { Self.join(stateDir, "node.key") }

    /// The keyring in force: `network.keyring` if set, else `<state_dir>/keyring`.
    public var keyringPath: String { keyring ?? Self.join(stateDir, "keyring") }

    /// The crash-safe snapshot of known peers: `<state_dir>/peers.json`.
    public var snapshotPath: String { Self.join(stateDir, "peers.json") }

    /// The settings of the protocol core.
    ///
    /// The endpoint is ``advertisedEndpoint``; a configuration that passed validation always has
    /// one (otherwise ``bind`` is used as is).
    public func agentSettings() -> AgentSettings {
        var settings = AgentSettings(name: name, endpoint: advertisedEndpoint ?? bind, membership: membership)
        settings.clockSkewWindow = clockSkewWindow
        settings.senderRatePerSecond = senderRatePerSecond
        settings.senderBurst = senderBurst
        return settings
    }

    /// Whether `endpoint` is a wildcard address (`0.0.0.0` or `::`), which can be bound but not
    /// reached.
    public static func isWildcard(_ endpoint: PeerEndpoint) -> Bool {
        ["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].contains(endpoint.host)
    }

    static func join(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }
}

extension NodeConfiguration {
    /// The `[membership]` keys an operator set; `nil` keeps the preset's value.
    ///
    /// Each property names its key, unit and default under the `radio` preset; the meaning and
    /// the reason for each default are on the ``MembershipSettings`` property it replaces.
    public struct MembershipTuning: Sendable, Equatable {
        /// `probe_interval_ms` (ms): the SWIM protocol period (``MembershipSettings/probeInterval``). radio: 1000.
        public var probeInterval: Duration?
        /// `probe_timeout_ms` (ms): wait for a direct ack, below the interval (``MembershipSettings/probeTimeout``). radio: 500.
        public var probeTimeout: Duration?
        /// `indirect_checks` (members): k of SWIM 4.1 (``MembershipSettings/indirectChecks``). radio: 3.
        public var indirectChecks: Int?
        /// `suspicion_multiplier` (factor): α of Lifeguard 3.2 (``MembershipSettings/suspicionMultiplier``). radio: 3.
        public var suspicionMultiplier: Double?
        /// `suspicion_max_timeout_multiplier` (factor): β of Lifeguard 3.2
        /// (``MembershipSettings/suspicionMaxTimeoutMultiplier``). radio: 4.
        public var suspicionMaxTimeoutMultiplier: Double?
        /// `awareness_max` (score): the local health cap of Lifeguard 3.1 (``MembershipSettings/awarenessMax``). radio: 8.
        public var awarenessMax: Int?
        /// `retransmit_multiplier` (factor): λ of SWIM 4.4 (``MembershipSettings/retransmitMultiplier``). radio: 4.
        public var retransmitMultiplier: Int?
        /// `gossip_interval_ms` (ms): time between dissemination rounds (``MembershipSettings/gossipInterval``). radio: 200.
        public var gossipInterval: Duration?
        /// `gossip_fanout` (members): members per dissemination round (``MembershipSettings/gossipFanout``). radio: 3.
        public var gossipFanout: Int?
        /// `push_pull_interval_ms` (ms): time between anti-entropy exchanges (``MembershipSettings/pushPullInterval``). radio: 30000.
        public var pushPullInterval: Duration?
        /// `join_retry_interval_ms` (ms): time between join attempts (``MembershipSettings/joinRetryInterval``). radio: 2000.
        public var joinRetryInterval: Duration?
        /// `reconnect_interval_ms` (ms): time between attempts to reach a failed member
        /// (``MembershipSettings/reconnectInterval``). radio: 30000.
        public var reconnectInterval: Duration?
        /// `failed_retention_s` (s): how long a failed member stays listed (``MembershipSettings/failedRetention``). radio: 86400.
        public var failedRetention: Duration?
        /// `left_retention_s` (s): how long a member that left stays listed (``MembershipSettings/leftRetention``). radio: 3600.
        public var leftRetention: Duration?

        /// Creates tuning that keeps every preset value.
        public init() {}

        /// Whether no key is set.
        public var isEmpty: Bool { self == MembershipTuning() }

        /// `preset` with every key that is set replaced.
        public func applied(to preset: MembershipSettings) -> MembershipSettings {
            var settings = preset
            if let probeInterval { settings.probeInterval = probeInterval }
            if let probeTimeout { settings.probeTimeout = probeTimeout }
            if let indirectChecks { settings.indirectChecks = indirectChecks }
            if let suspicionMultiplier { settings.suspicionMultiplier = suspicionMultiplier }
            if let suspicionMaxTimeoutMultiplier { settings.suspicionMaxTimeoutMultiplier = suspicionMaxTimeoutMultiplier }
            if let awarenessMax { settings.awarenessMax = awarenessMax }
            if let retransmitMultiplier { settings.retransmitMultiplier = retransmitMultiplier }
            if let gossipInterval { settings.gossipInterval = gossipInterval }
            if let gossipFanout { settings.gossipFanout = gossipFanout }
            if let pushPullInterval { settings.pushPullInterval = pushPullInterval }
            if let joinRetryInterval { settings.joinRetryInterval = joinRetryInterval }
            if let reconnectInterval { settings.reconnectInterval = reconnectInterval }
            if let failedRetention { settings.failedRetention = failedRetention }
            if let leftRetention { settings.leftRetention = leftRetention }
            return settings
        }
    }
}
