import OverlayCore

/// What the simulated radio network does to datagrams. All draws come from the run's seed.
public struct NetworkConditions: Sendable, Equatable {
    /// The fraction of datagrams lost, independently per datagram. Default 0.
    public var lossRate: Double = 0
    /// The fraction of datagrams delivered twice (the copy arrives up to ``reorderDelay``
    /// later). Default 0.
    public var duplicateRate: Double = 0
    /// The fraction of datagrams held back by up to ``reorderDelay`` (uniform), so they
    /// overtake each other. Default 0.
    public var reorderRate: Double = 0
    /// The longest extra delay of a reordered or duplicated datagram. Default 80 ms: a radio
    /// link's retransmissions and queueing under load reach tens of milliseconds.
    public var reorderDelay: Duration = .milliseconds(80)
    /// One-way delay per radio hop. Default 2 ms: an 802.11 hop with light contention.
    public var perHopDelay: Duration = .milliseconds(2)
    /// Extra one-way delay per datagram, uniform in `0..<jitter`. Default 1 ms.
    public var jitter: Duration = .milliseconds(1)

    /// Creates conditions with the defaults above (a clean network).
    public init() {}

    /// Creates conditions with the given loss and otherwise the defaults.
    public init(lossRate: Double) { self.lossRate = lossRate }
}

/// The shape of a simulated cloud.
public struct CloudConfiguration: Sendable {
    /// The number of nodes that run an agent.
    public var nodeCount: Int
    /// SWIM and Lifeguard timings for every agent. Default ``MembershipSettings/radio``, the
    /// daemon's default.
    public var membership: MembershipSettings = .radio
    /// The network at the start (a run may change it).
    public var network = NetworkConditions()
    /// Nodes `0..<seedCount` are the seeds every other node joins through; node 0 founds the
    /// cloud, configured as a daemon that founds one is (its only seed is itself:
    /// ``SimulatedCloud/seeds(of:)``). Default 2: a community config usually names a couple of
    /// well-known boxes.
    public var seedCount: Int = 2
    /// Mean radio neighbours of the generated mesh (see ``MeshTopology``). Default 8.
    public var meshDegree: Double = 8
    /// Clock offsets are uniform in `±clockOffsetSpread`. Default 2 s: boxes that synced with
    /// NTP at different times; well inside the core's 10-minute skew window.
    public var clockOffsetSpread: Duration = .seconds(2)
    /// Clock rates are uniform in `±clockRatePPM` parts per million. Default 100 ppm: a cheap
    /// crystal without temperature compensation.
    public var clockRatePPM: Int = 100
    /// Admitted identities that run no agent (the chaos runs' insider attacker signs with
    /// the first). Default 1.
    public var extraIdentities: Int = 1

    /// Nodes per neighbourhood cloud, or `nil` for one cloud of every node. With a size, nodes
    /// `k·size ..< (k+1)·size` form cloud `k`: their own mesh, their own seeds (the first
    /// ``seedCount`` of the cloud), and no datagram between clouds, as guifi.net's thousands of
    /// nodes form many neighbourhood clouds of 4-200 that each run their own overlay (DESIGN 1).
    /// Default `nil`.
    public var cloudSize: Int?
    /// Whether agents run the quorum view on top of SWIM (the daemon's default). Default
    /// `true`; the scale sweep turns it off to measure SWIM membership alone, as the core's
    /// ``AgentSettings/quorum`` documentation intends.
    public var quorumView = true

    /// Creates a configuration of `nodeCount` nodes with the defaults above.
    public init(nodeCount: Int) { self.nodeCount = nodeCount }
}
