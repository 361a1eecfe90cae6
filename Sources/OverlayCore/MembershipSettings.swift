import Foundation

/// The timings and budgets of SWIM with the Lifeguard refinements.
///
/// Every value has a unit and a reason; `Docs/configuration.md` repeats them with their config
/// keys. Two presets: ``radio`` (the default, for lossy multi-hop radio links in a neighbourhood
/// cloud) and ``fast`` (loopback tests and demos: the same protocol five times faster).
public struct MembershipSettings: Sendable, Equatable {
    /// Time between two probes of this node (SWIM 4: the protocol period). Scaled by the local
    /// health multiplier (Lifeguard 3.1). Default 1 s, memberlist's LAN value: at 1 probe/s a
    /// node sends about 2 datagrams per second.
    public var probeInterval: Duration = .seconds(1)

    /// How long to wait for an Ack to a direct Ping before asking others (SWIM 4.1). Default
    /// 500 ms: several times a 4-hop radio round trip (tens of ms each hop), still half the
    /// interval so indirect probes have time.
    public var probeTimeout: Duration = .milliseconds(500)

    /// How many members are asked to probe a silent target indirectly (SWIM 4.1: k). Default 3,
    /// as memberlist: with 10% loss on each link, three independent paths make a false
    /// suspicion unlikely (about 0.2% per probe).
    public var indirectChecks: Int = 3

    /// α in the suspicion timeout `min = α · max(1, log10 N) · probeInterval` (Lifeguard 3.2).
    /// Default 3: a suspect has 3 protocol periods (in clouds of up to 10 nodes) to refute
    /// before it is declared failed, which keeps detection within about 5 probe intervals.
    public var suspicionMultiplier: Double = 3

    /// β in the suspicion timeout `max = β · min` (Lifeguard 3.2): how long a suspicion that nobody
    /// confirms lasts. Each independent confirmation shrinks the timeout from max toward min
    /// logarithmically; `K = α - 2` confirmations reach min. Default 4.
    public var suspicionMaxTimeoutMultiplier: Double = 4

    /// Lifeguard's local health multiplier cap (3.1): probe interval and timeout are multiplied
    /// by `1 + score`, score in `0...awarenessMax`. Default 8, as memberlist.
    public var awarenessMax: Int = 8

    /// λ in the retransmit budget `λ · ceil(log10(N + 1))`: how many times each item is
    /// piggybacked before it is dropped from the queue (SWIM 4.4). Default 4, as memberlist: it
    /// reaches every member with high probability even at 10% loss.
    public var retransmitMultiplier: Int = 4

    /// Time between dissemination rounds that send queued items to ``gossipFanout`` random
    /// members (memberlist's gossip interval); nothing is sent when the queue is empty.
    /// Default 200 ms, so an item crosses a 1,000-node cloud in a few seconds.
    public var gossipInterval: Duration = .milliseconds(200)

    /// Members contacted per dissemination round. Default 3, as memberlist.
    public var gossipFanout: Int = 3

    /// Time between push-pull anti-entropy exchanges with one random member (memberlist 4.1).
    /// Scaled up in large clouds: `interval · (1 + log2(N / 32))` above 32 members, so the bytes
    /// a node sends stay roughly flat. Default 30 s, as memberlist.
    public var pushPullInterval: Duration = .seconds(30)

    /// Time between join attempts while this node knows no live member: it sends its state to
    /// every seed and every peer of its snapshot. Default 2 s.
    public var joinRetryInterval: Duration = .seconds(2)

    /// Time between attempts to reach one random failed member with a push-pull, so a member
    /// cut off by a partition learns it was declared failed and refutes (serf's reconnect),
    /// and the longest wait between attempts to reach a seed that is not a live member (a
    /// cloud that formed while a seed was unreachable meets it later; the wait starts at the
    /// join-retry interval and doubles, ``SeedBackoff``). Default 30 s.
    public var reconnectInterval: Duration = .seconds(30)

    /// How long a failed member stays in the table before it is forgotten. Default 24 h, serf's
    /// reconnect timeout: a box that is off for a night is still listed when it comes back.
    public var failedRetention: Duration = .seconds(24 * 3600)

    /// How long a member that left gracefully stays in the table. Default 1 h.
    public var leftRetention: Duration = .seconds(3600)

    /// Creates the default (``radio``) settings.
    public init() {}

    /// The default: lossy multi-hop radio links in a neighbourhood cloud of 4 to 200 nodes.
    public static let radio = MembershipSettings()

    /// memberlist's LAN profile (α 4, β 6), for comparison with Serf and for wired clouds.
    public static var lan: MembershipSettings {
        var settings = MembershipSettings()
        settings.suspicionMultiplier = 4
        settings.suspicionMaxTimeoutMultiplier = 6
        return settings
    }

    /// Loopback tests and demos: every timing five times shorter than ``radio``.
    public static var fast: MembershipSettings {
        var settings = MembershipSettings()
        settings.probeInterval = .milliseconds(200)
        settings.probeTimeout = .milliseconds(100)
        settings.gossipInterval = .milliseconds(40)
        settings.pushPullInterval = .seconds(6)
        settings.joinRetryInterval = .milliseconds(400)
        settings.reconnectInterval = .seconds(2)
        return settings
    }

    /// The presets by name, as the config file's `membership.preset` accepts them.
    public static let presets: [String: MembershipSettings] = ["radio": .radio, "lan": .lan, "fast": .fast]

    /// Lifeguard 3.2: the shortest suspicion timeout for a cloud of `memberCount` nodes.
    public func suspicionMinTimeout(memberCount: Int) -> Duration {
        let scale = max(1, log10(Double(max(1, memberCount))))
        return probeInterval.scaled(by: suspicionMultiplier * scale)
    }

    /// Lifeguard 3.2: the longest suspicion timeout (no confirmation).
    public func suspicionMaxTimeout(memberCount: Int) -> Duration {
        suspicionMinTimeout(memberCount: memberCount).scaled(by: suspicionMaxTimeoutMultiplier)
    }

    /// Independent confirmations that bring a suspicion down to its minimum timeout:
    /// `K = α - 2`, or 0 when the cloud is too small to have that many other observers.
    public func expectedConfirmations(memberCount: Int) -> Int {
        let k = max(0, Int(suspicionMultiplier) - 2)
        return memberCount - 2 < k ? 0 : k
    }

    /// SWIM 4.4: how many times an item is piggybacked in a cloud of `memberCount` nodes.
    public func retransmitLimit(memberCount: Int) -> Int {
        retransmitMultiplier * Int(ceil(log10(Double(memberCount + 1))))
    }

    /// The push-pull interval for a cloud of `memberCount` nodes (memberlist's pushPullScale).
    public func pushPullInterval(memberCount: Int) -> Duration {
        guard memberCount > 32 else { return pushPullInterval }
        return pushPullInterval.scaled(by: 1 + log2(Double(memberCount) / 32))
    }

    /// An upper bound on the time from a member's crash to every other member marking it failed,
    /// in a healthy cloud: up to one probe interval until someone probes it, that probe's own
    /// interval, the longest suspicion timeout (no confirmation), and five gossip intervals for
    /// the FAILED claim to reach everyone. Tests use it instead of a magic sleep.
    public func failureDetectionBound(memberCount: Int) -> Duration {
        let probing = probeInterval.scaled(by: 2)
        let suspicion = suspicionMaxTimeout(memberCount: memberCount)
        return .milliseconds(probing.milliseconds + suspicion.milliseconds + gossipInterval.milliseconds * 5)
    }
}
