import Foundation
import Logging
import OverlayCore

/// Every key of the config file, declared once: the tables below are what the reader, the
/// renderer, the flags, `overlayd config-keys` and `Docs/configuration.md` are made from.
///
/// Adding a key means: a property of ``NodeConfiguration`` (or ``GatewaysConfiguration``) with a
/// `///` comment, one entry here, regenerating the doc's tables (`overlayd config-keys
/// --markdown`) and a line in `Examples/overlayd.toml`. Nothing else.
public enum ConfigSchema {
    /// The tables in the order the file, the renderer and the docs use.
    public static let tables = ["node", "network", "api", "membership", "security", "log", "gateways", "gateway"]

    /// Every key's declaration, in table order, including the keys of a `[[gateways.gateway]]`
    /// entry (table `gateways.gateway`) and of `[gateway]`.
    public static var specs: [ConfigKeySpec] {
        entries.map(\.spec) + declaredGateway.map(\.spec) + localGateway.map(\.spec)
    }

    /// The declarations of one table.
    public static func specs(in table: String) -> [ConfigKeySpec] { specs.filter { $0.table == table } }

    /// The key a flag replaces, for `--help` and errors.
    public static func spec(flag: String) -> ConfigKeySpec? { specs.first { $0.flag == flag } }

    /// The keys of the plain tables, read into ``NodeConfiguration``.
    static let entries: [ConfigEntry<NodeConfiguration>] = node + network + api + membership + security + log + gateways

    /// The entry of `table.name`.
    static func entry(_ table: String, _ name: String) -> ConfigEntry<NodeConfiguration> {
        guard let entry = entries.first(where: { $0.spec.table == table && $0.spec.name == name }) else {
            preconditionFailure("\(table).\(name) is not declared in ConfigSchema")
        }
        return entry
    }

    typealias Entry = ConfigEntry<NodeConfiguration>

    // MARK: [node]

    static let node: [Entry] = [
        Entry(
            "node", "name", .string(what: "string", rule: "1-64 bytes"), default: .derived("the host name (`gethostname`)"),
            example: "\"node-1\"", flag: "--name",
            doc: "The name announced to the others and shown by `overlayctl peers`. The host name is what an operator recognises (Serf does the same). At most 64 bytes, the kernel's host name limit, since it travels in every alive claim inside a datagram of about 1,200 bytes. A node's identity is its key, so two nodes may share a name without confusion.",
            assign: { v, o, c in c.name = try ConfigCheck.name(v.string, ConfigKeys.name, o) },
            render: { .set(ConfigFile.tomlString($0.name)) }),
        Entry(
            "node", "state_dir", .string(what: "path", rule: "not empty"), default: .literal("\"/var/lib/overlayd\""),
            example: "\"/var/lib/overlayd\"", flag: "--state-dir",
            doc: "Holds `node.key`, `keyring` (unless `network.keyring` is set) and `peers.json`. The Debian place for a daemon's persistent state (systemd `StateDirectory=overlayd`).",
            assign: { v, o, c in c.stateDir = try ConfigCheck.path(v.string, ConfigKeys.stateDir, o) },
            render: { .set(ConfigFile.tomlString($0.stateDir)) }),
    ]

    // MARK: [network]

    static let network: [Entry] = [
        Entry(
            "network", "bind", .string(what: "`host:port`", rule: "port 1-65535"), default: .literal("\"0.0.0.0:7946\""),
            example: "\"0.0.0.0:7946\"", flag: "--bind",
            doc: "The UDP address to listen on. Every IPv4 interface, since a mesh node usually has several radio and wired interfaces; 7946 is Serf's port, which mesh firewalls often already open. `[::]:7946` for IPv6.",
            assign: { v, o, c in c.bind = try ConfigCheck.endpoint(v.string, ConfigKeys.bind, o, wildcard: true) },
            render: { .set(ConfigFile.tomlString($0.bind.description)) }),
        Entry(
            "network", "advertise", .string(what: "`host:port`", rule: "not a wildcard"),
            default: .derived("the `bind` address if it is not a wildcard, else **required**"),
            example: "\"10.1.2.3:7946\"", flag: "--advertise",
            doc: "The address others use to reach this node: its mesh address. A wildcard (`0.0.0.0`, `[::]`) cannot be reached, and guessing an interface is how gossip agents end up announcing a LAN or link-local address, so overlayd asks instead. A wildcard is refused here.",
            assign: { v, o, c in c.advertise = try ConfigCheck.endpoint(v.string, ConfigKeys.advertise, o, wildcard: false) },
            render: { c in
                if let advertise = c.advertise { return .set(ConfigFile.tomlString(advertise.description)) }
                return .note("not set; announced: \(c.advertisedEndpoint?.description ?? "nothing (required)")")
            }),
        Entry(
            "network", "seeds", .strings(what: "`host:port`", rule: "not wildcards"), default: .literal("[]"),
            example: "[\"10.1.2.4:7946\", \"10.1.2.5:7946\"]", flag: "--seed",
            doc: "Nodes contacted while this node knows no live member (first start, or every snapshot peer gone), every `join_retry_interval_ms`, and afterwards every `reconnect_interval_ms` while a seed is not a live member (so a cloud that formed while a seed was unreachable meets it). Two or three stable nodes are enough; afterwards the snapshot is used. With none, the node waits to be contacted. The repeatable flag replaces the whole list.",
            assign: { v, o, c in
                c.seeds = try v.strings.map { try ConfigCheck.endpoint($0, ConfigKeys.seeds, o, wildcard: false) }
            },
            render: { .set("[\($0.seeds.map { ConfigFile.tomlString($0.description) }.joined(separator: ", "))]") }),
        Entry(
            "network", "keyring", .string(what: "path", rule: "not empty"), default: .derived("`<state_dir>/keyring`"),
            example: "\"/var/lib/overlayd/keyring\"", flag: "--keyring",
            doc: "The file of admitted public keys (see operations.md); re-read on SIGHUP and `overlayctl reload`.",
            assign: { v, o, c in c.keyring = try ConfigCheck.path(v.string, ConfigKeys.keyring, o) },
            render: { c in c.keyring.map { .set(ConfigFile.tomlString($0)) } ?? .inForce(ConfigFile.tomlString(c.keyringPath)) }),
    ]

    // MARK: [api]

    static let api: [Entry] = [
        Entry(
            "api", "socket", .string(what: "path", rule: "at most 107 bytes"), default: .literal("\"/run/overlayd/overlayd.sock\""),
            example: "\"/run/overlayd/overlayd.sock\"", flag: "--socket",
            doc: "The Unix socket of the local HTTP/JSON API (`curl --unix-socket ... http://localhost/v1/peers`, `/metrics`). 107 bytes is the limit of a Unix socket address; `/run/overlayd` is systemd's `RuntimeDirectory=overlayd`.",
            assign: { v, o, c in c.socket = try ConfigCheck.socketPath(v.string, ConfigKeys.socket, o) },
            render: { .set(ConfigFile.tomlString($0.socket)) }),
        Entry(
            "api", "socket_mode", .string(what: "octal string", rule: "owner keeps read and write"), default: .literal("\"0660\""),
            example: "\"0660\"",
            doc: "Permission bits of the socket, which decide who may use the API: the daemon's user and group (add operators to the `overlayd` group), nobody else. Written as a string (`\"0660\"`, `\"0o660\"` and `\"660\"` are accepted) so that it cannot be mistaken for decimal.",
            assign: { v, o, c in c.socketMode = try ConfigCheck.mode(v.string, ConfigKeys.socketMode, o) },
            render: { .set("\"0\(String($0.socketMode, radix: 8))\"") }),
        Entry(
            "api", "socket_group", .string(what: "group name or number", rule: "a group of this system"), default: .derived("the daemon's own group"),
            example: "\"netadmin\"",
            doc: "The group the socket file gets before it becomes reachable, so that the members of a local group other than the daemon's can use `overlayctl` (with `socket_mode` `\"0660\"`: read routes; write routes still need root or the daemon's user). The daemon's user must belong to the group. Checked when the config is read: a group that does not exist is an error.",
            assign: { v, o, c in c.socketGroup = try ConfigCheck.group(v.string, ConfigKeys.socketGroup, o) },
            render: { c in c.socketGroup.map { .set(ConfigFile.tomlString($0)) } ?? .omitted }),
        Entry(
            "api", "metrics_address", .string(what: "`host:port`", rule: "port 1-65535"), default: .derived("none (metrics only on the socket)"),
            example: "\"127.0.0.1:9946\"", flag: "--metrics-address",
            doc: "A TCP address that serves `GET /metrics` (and nothing else) for a Prometheus server that cannot read the socket. Off by default: the socket's permissions protect the API, a TCP port is open to whoever can reach it; bind it to loopback or the management network. 9946 is next to the gossip port.",
            assign: { v, o, c in c.metricsAddress = try ConfigCheck.endpoint(v.string, ConfigKeys.metricsAddress, o, wildcard: true) },
            render: { c in c.metricsAddress.map { .set(ConfigFile.tomlString($0.description)) } ?? .omitted }),
    ]

    // MARK: [membership]

    static let membership: [Entry] = [
        Entry(
            "membership", "preset", .choice(["fast", "lan", "radio"], noun: "preset"), default: .literal("\"radio\""),
            example: "\"radio\"", flag: "--preset",
            doc: "The timings the keys below start from (see [Presets](#presets)); the flag keeps the file's other `[membership]` keys.",
            assign: { v, _, c in c.membershipPreset = v.string },
            render: { .set(ConfigFile.tomlString($0.membershipPreset)) }),
        duration("probe_interval_ms", .milliseconds, 1...600_000, "1000", \.probeInterval, \.probeInterval,
                 "Time between two probes of this node (SWIM 4: the protocol period), multiplied by the local health factor (Lifeguard 3.1). memberlist's LAN value: at one probe per second a node sends about 2 datagrams per second."),
        duration("probe_timeout_ms", .milliseconds, 1...600_000, "500", \.probeTimeout, \.probeTimeout,
                 "How long to wait for an ack to a direct ping before asking others (SWIM 4.1); it must stay below `probe_interval_ms`. Several times a 4-hop radio round trip (tens of ms per hop), yet half the interval so that indirect probes have time."),
        count("indirect_checks", 0...16, "3", \.indirectChecks, \.indirectChecks,
              "k of SWIM 4.1: how many members are asked to probe a silent target. As memberlist: with 10% loss on each link, three independent paths make a false suspicion unlikely (about 0.2% per probe). 0 disables indirect probes."),
        factor("suspicion_multiplier", "3", \.suspicionMultiplier, \.suspicionMultiplier,
               "α in the suspicion timeout `min = α · max(1, log10 N) · probe_interval` (Lifeguard 3.2). A suspect has 3 protocol periods (in clouds of up to 10 nodes) to refute before it is declared failed, which keeps detection within about 5 probe intervals. Also sets `K = α − 2`, the confirmations expected."),
        factor("suspicion_max_timeout_multiplier", "4", \.suspicionMaxTimeoutMultiplier, \.suspicionMaxTimeoutMultiplier,
               "β in `max = β · min` (Lifeguard 3.2): how long a suspicion that nobody confirms lasts. Each independent confirmation shrinks the timeout from max toward min logarithmically."),
        count("awareness_max", 0...64, "8", \.awarenessMax, \.awarenessMax,
              "Lifeguard's local health cap (3.1): probe interval and timeout are multiplied by `1 + score`, score in `0...awareness_max`, so a node that is itself slow probes more gently and waits longer instead of accusing healthy members. As memberlist. 0 disables it."),
        count("retransmit_multiplier", 1...64, "4", \.retransmitMultiplier, \.retransmitMultiplier,
              "λ in the retransmit budget `λ · ceil(log10(N + 1))`: how many times each item is piggybacked before it leaves the queue (SWIM 4.4). As memberlist: it reaches every member with high probability even at 10% loss."),
        duration("gossip_interval_ms", .milliseconds, 1...600_000, "200", \.gossipInterval, \.gossipInterval,
                 "Time between dissemination rounds that send queued items to `gossip_fanout` random members; nothing is sent when the queue is empty. So an item crosses a 1,000-node cloud in a few seconds."),
        count("gossip_fanout", 1...64, "3", \.gossipFanout, \.gossipFanout, "Members contacted per dissemination round. As memberlist."),
        duration("push_pull_interval_ms", .milliseconds, 1...86_400_000, "30000", \.pushPullInterval, \.pushPullInterval,
                 "Time between full-state (anti-entropy) exchanges with one random member. Scaled up above 32 members, `interval · (1 + log2(N / 32))`, so the bytes a node sends stay roughly flat. As memberlist."),
        duration("join_retry_interval_ms", .milliseconds, 1...3_600_000, "2000", \.joinRetryInterval, \.joinRetryInterval,
                 "Time between join attempts while this node knows no live member: it sends its state to every seed and every snapshot peer."),
        duration("reconnect_interval_ms", .milliseconds, 1...86_400_000, "30000", \.reconnectInterval, \.reconnectInterval,
                 "Time between attempts to reach one random failed member with a push-pull, so a member cut off by a partition learns it was declared failed and refutes (Serf's reconnect), and between attempts to reach the seeds that are not live members."),
        duration("failed_retention_s", .seconds, 1...31_536_000, "86400", \.failedRetention, \.failedRetention,
                 "How long a failed member stays listed before it is forgotten. Serf's reconnect timeout: a box that is off for a night is still listed when it comes back."),
        duration("left_retention_s", .seconds, 1...31_536_000, "3600", \.leftRetention, \.leftRetention,
                 "How long a member that left gracefully stays listed."),
    ]

    private static func duration(
        _ name: String, _ unit: ConfigUnit, _ range: ClosedRange<Int>, _ radio: String,
        _ tuning: WritableKeyPath<NodeConfiguration.MembershipTuning, Duration?> & Sendable,
        _ setting: KeyPath<MembershipSettings, Duration> & Sendable, _ doc: String
    ) -> Entry {
        let perUnit: Int64 = unit == .seconds ? 1000 : 1
        return Entry(
            "membership", name, .integer(range, unit: unit), default: .literal(radio), example: radio, doc: doc,
            assign: { v, _, c in
                c.membershipTuning[keyPath: tuning] = unit == .seconds ? .seconds(v.integer) : .milliseconds(v.integer)
            },
            render: { c in
                let text = "\(c.membership[keyPath: setting].milliseconds / perUnit)"
                return c.membershipTuning[keyPath: tuning] == nil ? .inForce(text) : .set(text)
            })
    }

    private static func count(
        _ name: String, _ range: ClosedRange<Int>, _ radio: String,
        _ tuning: WritableKeyPath<NodeConfiguration.MembershipTuning, Int?> & Sendable,
        _ setting: KeyPath<MembershipSettings, Int> & Sendable, _ doc: String
    ) -> Entry {
        Entry(
            "membership", name, .integer(range, unit: nil), default: .literal(radio), example: radio, doc: doc,
            assign: { v, _, c in c.membershipTuning[keyPath: tuning] = v.integer },
            render: { c in
                let text = "\(c.membership[keyPath: setting])"
                return c.membershipTuning[keyPath: tuning] == nil ? .inForce(text) : .set(text)
            })
    }

    private static func factor(
        _ name: String, _ radio: String,
        _ tuning: WritableKeyPath<NodeConfiguration.MembershipTuning, Double?> & Sendable,
        _ setting: KeyPath<MembershipSettings, Double> & Sendable, _ doc: String
    ) -> Entry {
        Entry(
            "membership", name, .number(1...100, unit: nil, aboveLower: false), default: .literal("\(radio).0"), example: radio,
            doc: doc,
            assign: { v, _, c in c.membershipTuning[keyPath: tuning] = v.number },
            render: { c in
                let text = ConfigFile.tomlNumber(c.membership[keyPath: setting])
                return c.membershipTuning[keyPath: tuning] == nil ? .inForce(text) : .set(text)
            })
    }

    // MARK: [security]

    static let security: [Entry] = [
        Entry(
            "security", "clock_skew_window_s", .integer(0...604_800, unit: .seconds), default: .literal("600"), example: "600",
            doc: "How far a sender's clock may be from ours before its datagrams are refused; 0 disables the check. Ten minutes bound how long a captured datagram can be replayed to a node that has just restarted, yet tolerate the drift of boxes without a real-time clock that wait for NTP.",
            assign: { v, _, c in c.clockSkewWindow = v.integer == 0 ? nil : .seconds(v.integer) },
            render: { .set("\(($0.clockSkewWindow?.milliseconds ?? 0) / 1000)") }),
        Entry(
            "security", "sender_rate_per_second", .number(0.1...1_000_000, unit: .plain("datagrams/s"), aboveLower: false),
            default: .literal("200.0"), example: "200",
            doc: "Datagrams per second one sender may sustain; the excess is dropped before any signature is verified (about 48 µs each). SWIM sends about 2 per second, a push-pull of 1,000 members about 150 at once.",
            assign: { v, _, c in c.senderRatePerSecond = v.number },
            render: { .set(ConfigFile.tomlNumber($0.senderRatePerSecond)) }),
        Entry(
            "security", "sender_burst", .number(1...1_000_000, unit: .plain("datagrams"), aboveLower: false),
            default: .literal("400.0"), example: "400",
            doc: "Datagrams one sender may send at once (the token bucket's depth): two full push-pulls back to back.",
            assign: { v, _, c in c.senderBurst = v.number },
            render: { .set(ConfigFile.tomlNumber($0.senderBurst)) }),
    ]

    // MARK: [log]

    static let log: [Entry] = [
        Entry(
            "log", "level", .choice(Logger.Level.allCases.map(\.rawValue), noun: "log level"), default: .literal("\"info\""),
            example: "\"info\"", flag: "--log-level",
            doc: "The least severe level written: at `info`, member changes and selections, one line each, nothing per datagram.",
            assign: { v, _, c in c.logLevel = Logger.Level(rawValue: v.string) ?? .info },
            render: { .set(ConfigFile.tomlString($0.logLevel.rawValue)) }),
        Entry(
            "log", "format", .choice(LogFormat.allCases.map(\.rawValue), noun: "log format"), default: .literal("\"text\""),
            example: "\"text\"", flag: "--log-format",
            doc: "Log lines on standard error: `text` for people reading `journalctl`, `json` (one object per line) for log collectors.",
            assign: { v, _, c in c.logFormat = LogFormat(rawValue: v.string) ?? .text },
            render: { .set(ConfigFile.tomlString($0.logFormat.rawValue)) }),
    ]
}

/// The keys that the rules in ``ConfigCheck`` name in their messages.
enum ConfigKeys {
    static var name: ConfigKey { ConfigSchema.entry("node", "name").key }
    static var stateDir: ConfigKey { ConfigSchema.entry("node", "state_dir").key }
    static var bind: ConfigKey { ConfigSchema.entry("network", "bind").key }
    static var advertise: ConfigKey { ConfigSchema.entry("network", "advertise").key }
    static var seeds: ConfigKey { ConfigSchema.entry("network", "seeds").key }
    static var keyring: ConfigKey { ConfigSchema.entry("network", "keyring").key }
    static var socket: ConfigKey { ConfigSchema.entry("api", "socket").key }
    static var socketMode: ConfigKey { ConfigSchema.entry("api", "socket_mode").key }
    static var socketGroup: ConfigKey { ConfigSchema.entry("api", "socket_group").key }
    static var metricsAddress: ConfigKey { ConfigSchema.entry("api", "metrics_address").key }
    static var tables: [String] { ConfigSchema.tables }
    /// Every key of the plain tables, plus `gateways.gateway` and the keys of `[gateway]`.
    static var all: [ConfigKey] {
        ConfigSchema.entries.map(\.key)
            + [ConfigKey("gateways", "gateway", example: "[{ proxy = \"10.1.2.3:3128\" }]")]
            + ConfigSchema.localGateway.map(\.key)
    }
}
