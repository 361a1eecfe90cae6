/// Why a selection round starts. The raw values are stable labels for logs, metrics and the
/// local API.
public enum ReselectionReason: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The node has never selected a gateway (RIMO: "the node has recently connected").
    case start
    /// The periodic reselection came due (``SelectorSettings/reselectionPeriod``).
    case periodic
    /// This node's own probe of its gateway failed, or most observers see it failing.
    case currentFailed = "current_failed"
    /// The current gateway's estimate degraded past ``SelectorSettings/degradationRatio`` of
    /// its latency when chosen (RIMO: "the node is not satisfied with the current gateway").
    case currentDegraded = "current_degraded"
    /// The current gateway is no longer eligible: withdrawn, denied or beyond the horizon.
    case currentUnavailable = "current_unavailable"
    /// The user changed the preferences (RIMO: "the user has changed their preferences").
    case preferencesChanged = "preferences_changed"
    /// A previous round ended without a usable gateway, or with a provisional choice.
    case retry
    /// An operator or a local service asked for it (`overlayctl selection --reselect`).
    case requested

    public var description: String {
        switch self {
        case .start: "first selection"
        case .periodic: "periodic reselection"
        case .currentFailed: "the current gateway failed"
        case .currentDegraded: "the current gateway degraded"
        case .currentUnavailable: "the current gateway is no longer eligible"
        case .preferencesChanged: "the preferences changed"
        case .retry: "retry after a round without a measured choice"
        case .requested: "reselection requested"
        }
    }
}

/// The first half of a selection round: what ``GatewaySelector/beginRound(now:reason:)``
/// decided, and the probes the shell must now run.
///
/// The shell sends an HTTP GET of the probe object through each gateway of ``probes`` (timing
/// first byte and full content, with a timeout), turns each result into an ``Observation``
/// with ``GatewaySelector/makeObservation(of:contentLatency:timeToFirstByte:failure:bytes:now:)``,
/// signs and gossips it, and hands them all to
/// ``GatewaySelector/completeRound(_:now:)``. With no probes it may complete at once.
public struct SelectionRound: Sendable, Equatable {
    /// The round's number, counting from 1.
    public let number: UInt64
    /// The strategy in force.
    public let strategy: GatewaySelector.Strategy
    /// Why the round started.
    public let reason: ReselectionReason
    /// When it started.
    public let startedAt: Instant
    /// Γweighted: every gateway that passed the filter, with its weight (RIMO Algorithm 1).
    public let eligible: [WeightedGateway]
    /// The candidates (RIMO Algorithm 2: the drawn ones, then the previous gateway).
    public let candidates: [WeightedGateway]
    /// The gateways to probe now. Empty for ``GatewaySelector/Strategy/random``, and usually
    /// empty in ``GatewaySelector/Strategy/collaborative`` mode.
    public let probes: [Gateway]
    /// Candidates that will be judged by the cloud's shared estimates instead of a probe.
    public let shared: [GatewayID]

    /// Creates a round (the selector does; tests may).
    public init(
        number: UInt64, strategy: GatewaySelector.Strategy, reason: ReselectionReason, startedAt: Instant,
        eligible: [WeightedGateway], candidates: [WeightedGateway], probes: [Gateway], shared: [GatewayID]
    ) {
        self.number = number
        self.strategy = strategy
        self.reason = reason
        self.startedAt = startedAt
        self.eligible = eligible
        self.candidates = candidates
        self.probes = probes
        self.shared = shared
    }

    /// Whether the shell has probes to run before completing the round.
    public var needsProbes: Bool { !probes.isEmpty }
}

/// How one candidate fared in a round: the "why" of a ``SelectionDecision``.
public struct CandidateAssessment: Sendable, Equatable, CustomStringConvertible {
    /// Where a candidate's latency came from.
    public enum Basis: String, Sendable, Hashable {
        /// This node probed it in this round.
        case probed
        /// The cloud's shared estimate (median over distinct observers).
        case shared
        /// No measurement: not probed, and nobody measured it recently.
        case unmeasured
    }

    /// The candidate.
    public let gateway: GatewayID
    /// Its hop count (assumed ``SelectorSettings/maxHops`` when unknown).
    public let hops: Int
    /// Its RIMO weight.
    public let weight: Int
    /// Whether it is the gateway this node used before the round.
    public let isPrevious: Bool
    /// Where its latency came from.
    public let basis: Basis
    /// The content latency the decision used (measured, or estimated and hop-adjusted).
    public let contentLatency: Duration?
    /// Why this node's probe of it failed in this round, if it did.
    public let failure: ProbeFailure?
    /// Distinct observers behind a shared estimate (1 for a probe of this round alone).
    public let observerCount: Int
    /// How certain the shared estimate is (``GatewayEstimate/spread``); `nil` for fewer than two
    /// observers and for the strategies that judge by this round's probes alone.
    public let spread: Duration?
    /// Nodes of the cloud that use it, by their selection announcements (or the gateway's own
    /// count, if larger).
    public let clients: Int
    /// Its client capacity: advertised, or ``SelectorSettings/assumedCapacity``.
    public let capacity: Int
    /// The value compared: the latency, times the load factor in collaborative mode.
    public let score: Duration?
    /// Whether it could be chosen (measured, and not failing).
    public let usable: Bool

    /// Creates an assessment (the selector does; tests may).
    public init(
        gateway: GatewayID, hops: Int, weight: Int, isPrevious: Bool, basis: Basis, contentLatency: Duration?,
        failure: ProbeFailure?, observerCount: Int, spread: Duration? = nil, clients: Int, capacity: Int,
        score: Duration?, usable: Bool
    ) {
        self.gateway = gateway
        self.hops = hops
        self.weight = weight
        self.isPrevious = isPrevious
        self.basis = basis
        self.contentLatency = contentLatency
        self.failure = failure
        self.observerCount = observerCount
        self.spread = spread
        self.clients = clients
        self.capacity = capacity
        self.score = score
        self.usable = usable
    }

    /// The share of its capacity in use if this node uses it (counting this node among the
    /// clients of a gateway it would move to).
    public var utilisation: Double { Double(clients + (isPrevious ? 0 : 1)) / Double(max(1, capacity)) }

    public var description: String {
        var text = "\(gateway) [\(basis.rawValue)"
        if let failure { text += ", \(failure)" }
        if let contentLatency { text += ", \(contentLatency.milliseconds)ms" }
        if basis == .shared { text += " from \(observerCount) observer(s)" }
        if let score, score != contentLatency { text += ", score \(score.milliseconds)ms" }
        text += ", \(clients)/\(capacity) clients]"
        return text
    }
}

/// The outcome of a selection round, with its explanation (what `overlayctl selection` shows).
public struct SelectionDecision: Sendable, Equatable {
    /// The round's number.
    public let round: UInt64
    /// The strategy in force.
    public let strategy: GatewaySelector.Strategy
    /// Why the round started.
    public let reason: ReselectionReason
    /// When it was decided.
    public let decidedAt: Instant
    /// The gateway used before the round.
    public let previous: GatewayID?
    /// The gateway to use now; `nil` if no candidate is usable.
    public let chosen: GatewayID?
    /// Every candidate considered, in candidate order.
    public let candidates: [CandidateAssessment]
    /// One sentence saying why ``chosen`` won.
    public let explanation: String
    /// The announcement to sign and gossip, when the choice changed.
    public let announcement: SelectionAnnouncement?
    /// When the shell should start another round (reason ``ReselectionReason/retry``): set when
    /// no gateway was usable or the choice was made without any measurement.
    public let retryAt: Instant?

    /// Creates a decision (the selector does; tests may).
    public init(
        round: UInt64, strategy: GatewaySelector.Strategy, reason: ReselectionReason, decidedAt: Instant,
        previous: GatewayID?, chosen: GatewayID?, candidates: [CandidateAssessment], explanation: String,
        announcement: SelectionAnnouncement?, retryAt: Instant?
    ) {
        self.round = round
        self.strategy = strategy
        self.reason = reason
        self.decidedAt = decidedAt
        self.previous = previous
        self.chosen = chosen
        self.candidates = candidates
        self.explanation = explanation
        self.announcement = announcement
        self.retryAt = retryAt
    }

    /// Whether the node changes gateway.
    public var changed: Bool { chosen != previous }

    /// The candidates this node probed in the round.
    public var probed: [GatewayID] { candidates.filter { $0.basis == .probed }.map(\.gateway) }

    /// The candidates judged by the cloud's shared estimates.
    public var shared: [GatewayID] { candidates.filter { $0.basis == .shared }.map(\.gateway) }
}
