import Foundation
import OverlayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings given on the `overlayd` command line, which win over the config file.
///
/// Values arrive as the operator typed them and are checked by ``applied(to:)`` with the same
/// rules as the file. Errors name the flag and the key it stands for: `--bind` (`network.bind`).
///
/// The flags, and the keys they replace:
///
/// | flag | key |
/// | --- | --- |
/// | `--name` | `node.name` |
/// | `--state-dir` | `node.state_dir` |
/// | `--bind` | `network.bind` |
/// | `--advertise` | `network.advertise` |
/// | `--seed` (repeatable) | `network.seeds` |
/// | `--keyring` | `network.keyring` |
/// | `--socket` | `api.socket` |
/// | `--preset` | `membership.preset` |
/// | `--log-level` | `log.level` |
/// | `--log-format` | `log.format` |
/// | `--metrics-address` | `api.metrics_address` |
///
/// ## Running without root
///
/// Only three defaults touch root-owned places: `node.state_dir` (`/var/lib/overlayd`),
/// `api.socket` (`/run/overlayd/overlayd.sock`) and, merely by reading it when it exists, the
/// config file `/etc/overlayd/overlayd.toml`. With
///
/// ```
/// overlayd --state-dir ./run/a --socket ./run/a/overlayd.sock --bind 127.0.0.1:7001
/// ```
///
/// the key, keyring and snapshot live in `./run/a`, the socket too, and the UDP port is above
/// 1023; because the bind address is not a wildcard it is also the advertised address. No root
/// path is written. ``unprivileged(directory:port:)`` builds those flags, for tests and demos.
public struct ConfigOverrides: Sendable, Equatable {
    /// `--name`: replaces `node.name`.
    public var name: String?
    /// `--state-dir`: replaces `node.state_dir` (and with it the default keyring path).
    public var stateDir: String?
    /// `--bind`: replaces `network.bind`, `host:port`.
    public var bind: String?
    /// `--advertise`: replaces `network.advertise`, `host:port`.
    public var advertise: String?
    /// `--seed`, repeatable: when neither `nil` nor empty, replaces `network.seeds` as a whole.
    /// An empty list also keeps the file's seeds, since no flag can ask for "no seeds".
    public var seeds: [String]?
    /// `--keyring`: replaces `network.keyring`, the file of admitted keys.
    public var keyring: String?
    /// `--socket`: replaces `api.socket`.
    public var socket: String?
    /// `--preset`: replaces `membership.preset`; the file's other `[membership]` keys still apply.
    public var preset: String?
    /// `--log-level`: replaces `log.level` (`trace` ... `critical`).
    public var logLevel: String?
    /// `--log-format`: replaces `log.format` (`text` or `json`).
    public var logFormat: String?
    /// `--metrics-address`: replaces `api.metrics_address`, `host:port`.
    public var metricsAddress: String?

    /// Creates overrides; every parameter left out keeps the file's value.
    public init(
        name: String? = nil, stateDir: String? = nil, bind: String? = nil, advertise: String? = nil,
        seeds: [String]? = nil, keyring: String? = nil, socket: String? = nil, preset: String? = nil,
        logLevel: String? = nil, logFormat: String? = nil, metricsAddress: String? = nil
    ) {
        self.metricsAddress = metricsAddress
        self.name = name
        self.stateDir = stateDir
        self.bind = bind
        self.advertise = advertise
        self.seeds = seeds
        self.keyring = keyring
        self.socket = socket
        self.preset = preset
        self.logLevel = logLevel
        self.logFormat = logFormat
    }

    /// The flags that run a node without root: state and socket under `directory`, UDP on
    /// `127.0.0.1:port` (which is then also the advertised address).
    ///
    /// - Parameters:
    ///   - directory: a directory the user may write, such as `./run/a`.
    ///   - port: a UDP port above 1023.
    /// - Returns: overrides equivalent to `--state-dir <directory> --socket <directory>/overlayd.sock --bind 127.0.0.1:<port>`.
    public static func unprivileged(directory: String, port: UInt16) -> ConfigOverrides {
        ConfigOverrides(
            stateDir: directory, bind: "127.0.0.1:\(port)",
            socket: NodeConfiguration.join(directory, "overlayd.sock"))
    }

    /// Whether no flag is set.
    public var isEmpty: Bool {
        var normalized = self
        if normalized.seeds?.isEmpty == true { normalized.seeds = nil }
        return normalized == ConfigOverrides()
    }

    /// `configuration` with every flag that is set replacing its key, then validated as a whole.
    ///
    /// Each flag is checked with the rules of its config key; the result must also be complete
    /// (for example, an advertised address when the bind address is a wildcard), so call this
    /// even with no flags before starting a node, or use ``ConfigFile/resolve(path:overrides:defaultPath:)``.
    ///
    /// - Parameter configuration: the defaults or the parsed config file.
    /// - Returns: the configuration in force.
    /// - Throws: ``ConfigError`` naming the flag (or the file) and the key, in one sentence.
    public func applied(to configuration: NodeConfiguration) throws -> NodeConfiguration {
        var config = configuration
        for (flag, values) in flagValues where !values.isEmpty {
            guard let entry = ConfigSchema.entries.first(where: { $0.spec.flag == flag }) else {
                preconditionFailure("the flag \(flag) is not declared in ConfigSchema")
            }
            try entry.apply(flag: values, into: &config)
        }
        return try config.validated()
    }

    /// Every flag with the values given, in the order of ``ConfigSchema``.
    var flagValues: [(String, [String])] {
        [
            ("--name", name.map { [$0] } ?? []), ("--state-dir", stateDir.map { [$0] } ?? []),
            ("--bind", bind.map { [$0] } ?? []), ("--advertise", advertise.map { [$0] } ?? []),
            ("--seed", seeds ?? []), ("--keyring", keyring.map { [$0] } ?? []),
            ("--socket", socket.map { [$0] } ?? []), ("--metrics-address", metricsAddress.map { [$0] } ?? []),
            ("--preset", preset.map { [$0] } ?? []),
            ("--log-level", logLevel.map { [$0] } ?? []), ("--log-format", logFormat.map { [$0] } ?? []),
        ]
    }
}

/// The built-in defaults that more than one place needs, and where files live.
///
/// See ``ConfigOverrides`` ("Running without root") for the flags that keep a node out of every
/// root-owned path.
public enum ConfigDefaults {
    /// The config file read when `--config` is not given, if it exists: `/etc/overlayd/overlayd.toml`.
    public static let configPath = "/etc/overlayd/overlayd.toml"
    /// `node.state_dir`: `/var/lib/overlayd` (systemd `StateDirectory=overlayd`).
    public static let stateDirectory = "/var/lib/overlayd"
    /// The UDP port: 7946, Serf's, which mesh firewalls often already open.
    public static let port: UInt16 = 7946
    /// `network.bind`: every IPv4 interface, port 7946.
    public static let bind = PeerEndpoint(host: "0.0.0.0", port: port)
    /// `api.socket`: `/run/overlayd/overlayd.sock` (systemd `RuntimeDirectory=overlayd`).
    public static let socket = "/run/overlayd/overlayd.sock"
    /// `api.socket_mode`: owner and group read and write, others nothing.
    public static let socketMode: mode_t = 0o660
    /// `membership.preset`: `radio`.
    public static let preset = "radio"
    /// The core's own defaults for `[security]`, read from ``AgentSettings`` so they cannot drift.
    public static let agent = AgentSettings(name: "", endpoint: bind)

    /// The host name (`gethostname`), or `overlayd` when it is unavailable; the default `node.name`.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "overlayd" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "overlayd" : String(name.utf8.prefix(ConfigCheck.maxNameBytes)) ?? "overlayd"
    }
}
