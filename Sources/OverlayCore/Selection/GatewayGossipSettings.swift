/// A gateway this node runs itself and announces to the cloud (the config file's `[gateway]`).
public struct LocalGateway: Sendable, Equatable {
    /// The gateway's name; other nodes use it in observations and selections.
    public var id: GatewayID
    /// Where its HTTP proxy listens, as other nodes reach it (a mesh address, not loopback,
    /// outside tests).
    public var proxy: ProxyEndpoint
    /// The clients it is meant to serve, if the operator says; `nil` lets the others assume
    /// ``SelectorSettings/assumedCapacity``.
    public var capacity: Int?

    /// Creates a local gateway description.
    public init(id: GatewayID, proxy: ProxyEndpoint, capacity: Int? = nil) {
        self.id = id
        self.proxy = proxy
        self.capacity = capacity
    }
}

/// The settings of ``GatewayGossip``: what the node knows about gateways before it hears
/// anything, how the selector works, and the timings of rounds and announcements.
///
/// Two presets, like the selector's: ``standard`` (radio clouds) and ``fast`` (tests and
/// demos). `Docs/selection.md` explains every value.
public struct GatewayGossipSettings: Sendable, Equatable {
    /// The selector's parameters (RIMO, collaborative budget, hysteresis).
    public var selector: SelectorSettings
    /// How candidates are drawn and judged. Default ``GatewaySelector/Strategy/collaborative``.
    public var strategy: GatewaySelector.Strategy = .collaborative
    /// The user's preferences (RIMO Algorithm 1's filter).
    public var preferences = GatewayPreferences()
    /// The gateways declared in the config file. Announced gateways are added to them.
    public var gateways: [Gateway] = []
    /// The hop table in force before the hop source's first read (static hop counts).
    public var hops = HopTable()
    /// The gateway this node runs and announces, if any.
    public var localGateway: LocalGateway?

    /// The shell's probe timeout: how long one HTTP probe may take in all. Default 5 s:
    /// several times a slow multi-hop radio path's fetch of a small object, short enough that a
    /// dead gateway does not hold a round for long.
    public var probeTimeout: Duration = .seconds(5)
    /// How many probes the shell runs at once. Default 4: a round of RIMO probes three; brute
    /// force over many gateways queues the rest.
    public var maxConcurrentProbes: Int = 4
    /// Time after start before the first selection round. Default 2 s: enough for the join's
    /// push-pull to bring the members, their recent observations and their selections, so the
    /// first round can use shared data instead of probing.
    public var startDelay: Duration = .seconds(2)
    /// The first round is spread uniformly over this much more time, so nodes started together
    /// (after a power cut) do not all probe at once: each later one finds the earlier ones'
    /// observations. Default 3 s.
    public var startJitter: Duration = .seconds(3)
    /// Time between a gateway node's announcements of its gateway (with its current client
    /// count). Default 60 s; an announcement lives three times as long (``announcementLifetime``),
    /// so two lost in a row do not withdraw the gateway.
    public var announceInterval: Duration = .seconds(60)
    /// Time between housekeeping passes: dropping stale observations, forgetting members that
    /// failed or left, expiring announcements, and checking whether the current gateway
    /// failed or degraded. Default 1 s.
    public var housekeepingInterval: Duration = .seconds(1)
    /// The most gateway items a push-pull carries (selections and announcements first, then the
    /// newest observations). Default 512: 200 nodes' selections, 20 gateways' announcements and
    /// every fresh observation of a cloud with a probe budget of 3 per gateway, in about 60 KB.
    public var maxSyncItems: Int = 512

    /// Creates the ``standard`` settings with the given selector parameters.
    public init(selector: SelectorSettings = .standard) {
        self.selector = selector
    }

    /// The default: radio clouds of 4-200 nodes.
    public static let standard = GatewayGossipSettings()

    /// Tests and demos: the selector's ``SelectorSettings/fast`` windows, a 2 s probe timeout,
    /// a first round within 1.5 s of start, announcements every 2 s, housekeeping every 200 ms.
    public static var fast: GatewayGossipSettings {
        var settings = GatewayGossipSettings(selector: .fast)
        settings.probeTimeout = .seconds(2)
        settings.startDelay = .milliseconds(500)
        settings.startJitter = .seconds(1)
        settings.announceInterval = .seconds(2)
        settings.housekeepingInterval = .milliseconds(200)
        return settings
    }

    /// The presets by name, as the config file's `gateways.preset` accepts them.
    public static let presets: [String: GatewayGossipSettings] = ["standard": .standard, "fast": .fast]

    /// How long a gateway announcement counts without being renewed: three announce intervals.
    public var announcementLifetime: Duration { announceInterval * 3 }

    /// How long a round waits for its probes before it is decided without the missing ones:
    /// the probe timeout for each wave of ``maxConcurrentProbes`` probes, plus one second for
    /// the shell's scheduling.
    public func roundDeadline(probes: Int) -> Duration {
        let waves = max(1, (probes + max(1, maxConcurrentProbes) - 1) / max(1, maxConcurrentProbes))
        return probeTimeout * waves + .seconds(1)
    }
}
