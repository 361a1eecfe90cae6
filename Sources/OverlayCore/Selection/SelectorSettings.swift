/// The parameters of gateway selection, each with its unit, default and reason.
///
/// `Docs/selection.md` repeats them. Two presets: ``standard`` (the default, for a
/// neighbourhood cloud of 4-200 nodes on radio links) and ``fast`` (tests and demos: the same
/// rules with windows sixty times shorter).
public struct SelectorSettings: Sendable, Equatable {
    /// MaxHOPS (RIMO Algorithm 1, line 11), the selection horizon: gateways farther than this
    /// are filtered out, and a gateway `h` hops away weighs `maxHops + 1 - h`. Default 10:
    /// neighbourhood clouds are rarely more than 10 radio hops across, and it makes a one-hop
    /// gateway ten times as likely a candidate as one at the edge.
    public var maxHops: Int = 10

    /// How many random candidates each round draws besides the previously used gateway (RIMO
    /// Algorithm 2, line 2). Default 2, the paper's value and the power of two choices
    /// (Mitzenmacher 2001): the second choice is what balances load; more choices herd more.
    public var candidateCount: Int = 2

    /// How long an observation counts, and the period of the probe budget. Default 5 min: the
    /// RIMO paper judges a choice by the content latency over the 5 minutes that follow it; an
    /// older measurement describes a load that has moved on.
    public var freshnessWindow: Duration = .seconds(300)

    /// Collaborative mode: how many distinct nodes should measure each gateway per freshness
    /// window. A node probes a candidate only while fewer than this many have. Default 3: the
    /// smallest number whose median one lying observer cannot move.
    public var targetObserversPerPeriod: Int = 3

    /// Collaborative mode: the probes the cloud spends per node and selection round, on
    /// average. Default 0.25: a tenth of RIMO's three, and enough that at 200 nodes and 20
    /// gateways every gateway is measured a few times per round period.
    public var probeBudget: Double = 0.25

    /// The most observations held in memory. Default 8,192: 128 observers each for 64
    /// gateways (about 1.2 MB), more gateways than one neighbourhood cloud can reach.
    public var observationCapacity: Int = 8192

    /// The most distinct observers whose latest observation is held per gateway; a newer
    /// observation replaces the gateway's oldest. Default 128: at 200 nodes, 20 gateways and
    /// the default budget that is about one freshness window of observations per gateway (32
    /// measured worse in `overlay-sim rimo`: the median of fewer noisy probes), and it keeps
    /// memory and the cost of an estimate flat however large the cloud (1,000 nodes hold 128,
    /// not 1,000, per gateway).
    public var observersPerGateway: Int = 128

    /// The most gateways one observer may hold observations about. Default 64, so one member
    /// inventing gateway names cannot push out the others' measurements.
    public var maxGatewaysPerObserver: Int = 64

    /// The latency a failed probe counts as. Default 10 s: twice the shell's probe timeout
    /// (5 s), so a gateway that most observers cannot reach sorts after every working one.
    public var failurePenalty: Duration = .seconds(10)

    /// The latency one more mesh hop adds to a probe, used to adjust another node's measurement
    /// to this node's distance. Default 10 ms: a small HTTP fetch through a proxy costs about
    /// three round trips, and a radio hop adds a few milliseconds each way.
    public var latencyPerHop: Duration = .milliseconds(10)

    /// How far in the future an observation may be dated. Default 60 s of clock skew between
    /// community-run boxes; later ones are refused.
    public var clockSkewTolerance: Duration = .seconds(60)

    /// Collaborative mode: the share of each gateway's capacity assumed to be used by others
    /// than this cloud, which the cloud cannot see (``LoadModel``). It sets how steeply a
    /// gateway's predicted latency grows with the cloud's clients. Default 0.3: community
    /// proxies serve more users than one neighbourhood cloud (guifi.net's proxies serve whole
    /// zones), and a third leaves the cloud most of the capacity. A wrong value skews the
    /// predictions, not the measurements: `overlay-sim rimo --background` checks other shares.
    public var backgroundShare: Double = 0.3

    /// Collaborative mode: an observation stops counting toward a gateway's observers (and
    /// gives way in its estimate to newer ones) once the cloud's clients of that gateway have
    /// changed by more than this fraction of its capacity, and by at least 2 clients, since it
    /// arrived. Default 0.1: near saturation a proxy's latency grows several-fold with a tenth
    /// of its capacity, and a steady cloud changes its load by less than that, so it re-probes
    /// only when nodes move (see ``ObservationStore``, load stamps).
    public var loadChangeTolerance: Double = 0.1

    /// The number of clients by which a gateway's load may change before its older
    /// observations stop counting: ``loadChangeTolerance`` of `capacity`, at least 2.
    public func loadChangeAllowance(capacity: Int) -> Int {
        max(2, Int((loadChangeTolerance * Double(capacity)).rounded()))
    }

    /// The client capacity assumed for a gateway that advertises none. Default 32 clients,
    /// a small community proxy on a shared DSL or fibre line.
    public var assumedCapacity: Int = 32

    /// Hysteresis (collaborative mode): a node leaves its gateway only for one whose score is
    /// better by at least this fraction of the current score and by at least
    /// ``switchGainMinimum`` (as batman-adv's gateway selection class and Tailscale's
    /// preferred-DERP choice do: a change must be worth its cost). Default 0.2 (20%).
    public var switchGainRatio: Double = 0.2

    /// The absolute part of the switch margin. Default 20 ms: below that, probe noise on radio
    /// links. Two candidates closer than either threshold count as equivalent, and the node
    /// picks among equivalent ones at random, which spreads nodes over equally good gateways.
    public var switchGainMinimum: Duration = .milliseconds(20)

    /// The current gateway is degraded, and triggers a reselection, when its estimate reaches
    /// this multiple of its latency when it was chosen and is at least ``degradationMinimum``
    /// worse. Default 2.
    public var degradationRatio: Double = 2

    /// The absolute part of the degradation threshold. Default 200 ms, well above probe noise.
    public var degradationMinimum: Duration = .milliseconds(200)

    /// Time between periodic reselections. Default 5 min, one freshness window: with shared
    /// estimates a periodic round usually costs no probe, and it lets nodes drift off gateways
    /// that became loaded.
    public var reselectionPeriod: Duration = .seconds(300)

    /// The periodic reselection is spread uniformly over `period · (1 ± jitter)`, so nodes
    /// started together do not reselect together. Default 0.2.
    public var reselectionJitter: Double = 0.2

    /// When a round ends without a usable gateway, or with a provisional choice made without
    /// any measurement, the next round is due after this long. Default 15 s: long enough for
    /// the probes that other nodes were drawn to make to reach this node by gossip.
    public var retryInterval: Duration = .seconds(15)

    /// Creates the default (``standard``) settings.
    public init() {}

    /// The default: a neighbourhood cloud of 4-200 nodes on radio links.
    public static let standard = SelectorSettings()

    /// Tests and demos: windows and periods sixty times shorter, the same rules.
    public static var fast: SelectorSettings {
        var settings = SelectorSettings()
        settings.freshnessWindow = .seconds(5)
        settings.reselectionPeriod = .seconds(5)
        settings.retryInterval = .milliseconds(250)
        return settings
    }

    /// The presets by name, as the config file's `selection.preset` accepts them.
    public static let presets: [String: SelectorSettings] = ["standard": .standard, "fast": .fast]

    /// Whether `better` is better than `worse` by a clear margin: by at least
    /// ``switchGainRatio`` of `worse` and at least ``switchGainMinimum``.
    public func isClearlyBetter(_ better: Duration, than worse: Duration) -> Bool {
        let gain = worse.milliseconds - better.milliseconds
        return gain >= switchGainMinimum.milliseconds && Double(gain) >= switchGainRatio * Double(worse.milliseconds)
    }
}
