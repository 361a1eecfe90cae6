/// The answer of `GET /v1/selection`: the gateway this node uses, why, and what its last selection
/// round considered.
///
/// Optional fields are always present in the JSON, as `null` when unknown (before the first round
/// most of them are). Fields are only ever added.
public struct SelectionResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// The strategy in force, as in the config file: `collaborative` (the default), `rimo`,
    /// `power-of-two`, `brute-force` or `random`. A later daemon may add strategies.
    public var strategy: String
    /// The gateway this node uses now (a ``GatewayInfo/id``); `nil` when it has none.
    public var current: String?
    /// The gateway it used before the last round; `nil` when none.
    public var previous: String?
    /// Why the last round started, as a stable label: `start`, `periodic`, `current_failed`,
    /// `current_degraded`, `current_unavailable`, `preferences_changed`, `retry` or `requested`
    /// (a later daemon may add labels); `nil` before the first round.
    public var reason: String?
    /// Seconds since the last round decided; `nil` before the first decision.
    public var decidedSecondsAgo: Double?
    /// One sentence saying why the last round chose what it chose; `nil` before the first decision.
    public var explanation: String?
    /// The number of the last round, counting from 1; 0 before the first.
    public var round: UInt64
    /// The candidates of the last round (RIMO Algorithm 2: the drawn ones, then the previous
    /// gateway), in candidate order.
    public var candidates: [CandidateInfo]
    /// Probes this node has sent since it started, over all rounds.
    public var probesSent: Int
    /// Candidates judged by the cloud's shared estimates instead of a probe, over all rounds.
    public var sharedEstimatesUsed: Int
    /// Rounds completed since the daemon started.
    public var roundsCompleted: Int
    /// Seconds until the next round is due; `nil` when none is scheduled.
    public var nextRoundInSeconds: Double?

    /// Creates a selection response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - strategy: the strategy's config name.
    ///   - current: the gateway in use, or `nil`.
    ///   - previous: the gateway used before the last round, or `nil`.
    ///   - reason: the last round's reason label, or `nil`.
    ///   - decidedSecondsAgo: seconds since the last decision, or `nil`.
    ///   - explanation: the last decision's sentence, or `nil`.
    ///   - round: the last round's number (0 before the first).
    ///   - candidates: the last round's candidates.
    ///   - probesSent: probes sent since start.
    ///   - sharedEstimatesUsed: shared estimates used since start.
    ///   - roundsCompleted: rounds completed since start.
    ///   - nextRoundInSeconds: seconds until the next round, or `nil`.
    public init(
        schema: Int = APISchema.version, version: String, strategy: String, current: String?, previous: String?,
        reason: String?, decidedSecondsAgo: Double?, explanation: String?, round: UInt64, candidates: [CandidateInfo],
        probesSent: Int, sharedEstimatesUsed: Int, roundsCompleted: Int, nextRoundInSeconds: Double?
    ) {
        self.schema = schema
        self.version = version
        self.strategy = strategy
        self.current = current
        self.previous = previous
        self.reason = reason
        self.decidedSecondsAgo = decidedSecondsAgo
        self.explanation = explanation
        self.round = round
        self.candidates = candidates
        self.probesSent = probesSent
        self.sharedEstimatesUsed = sharedEstimatesUsed
        self.roundsCompleted = roundsCompleted
        self.nextRoundInSeconds = nextRoundInSeconds
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case strategy
        case current
        case previous
        case reason
        case decidedSecondsAgo = "decided_seconds_ago"
        case explanation
        case round
        case candidates
        case probesSent = "probes_sent"
        case sharedEstimatesUsed = "shared_estimates_used"
        case roundsCompleted = "rounds_completed"
        case nextRoundInSeconds = "next_round_in_seconds"
    }

    /// Decodes a selection response; missing optional fields read as `nil`, missing counts as 0.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(Int.self, forKey: .schema)
        version = try container.decode(String.self, forKey: .version)
        strategy = try container.decode(String.self, forKey: .strategy)
        current = try container.decodeIfPresent(String.self, forKey: .current)
        previous = try container.decodeIfPresent(String.self, forKey: .previous)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        decidedSecondsAgo = try container.decodeIfPresent(Double.self, forKey: .decidedSecondsAgo)
        explanation = try container.decodeIfPresent(String.self, forKey: .explanation)
        round = try container.decodeIfPresent(UInt64.self, forKey: .round) ?? 0
        candidates = try container.decodeIfPresent([CandidateInfo].self, forKey: .candidates) ?? []
        probesSent = try container.decodeIfPresent(Int.self, forKey: .probesSent) ?? 0
        sharedEstimatesUsed = try container.decodeIfPresent(Int.self, forKey: .sharedEstimatesUsed) ?? 0
        roundsCompleted = try container.decodeIfPresent(Int.self, forKey: .roundsCompleted) ?? 0
        nextRoundInSeconds = try container.decodeIfPresent(Double.self, forKey: .nextRoundInSeconds)
    }

    /// Encodes a selection response, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(version, forKey: .version)
        try container.encode(strategy, forKey: .strategy)
        try container.encode(current, forKey: .current)
        try container.encode(previous, forKey: .previous)
        try container.encode(reason, forKey: .reason)
        try container.encode(decidedSecondsAgo, forKey: .decidedSecondsAgo)
        try container.encode(explanation, forKey: .explanation)
        try container.encode(round, forKey: .round)
        try container.encode(candidates, forKey: .candidates)
        try container.encode(probesSent, forKey: .probesSent)
        try container.encode(sharedEstimatesUsed, forKey: .sharedEstimatesUsed)
        try container.encode(roundsCompleted, forKey: .roundsCompleted)
        try container.encode(nextRoundInSeconds, forKey: .nextRoundInSeconds)
    }
}

/// One candidate of a selection round and how it fared: the "why" of ``SelectionResponse``.
///
/// Optional fields are always present in the JSON, as `null` when unknown.
public struct CandidateInfo: Codable, Sendable, Equatable {
    /// The values of ``basis``.
    public static let bases = ["probed", "shared", "unmeasured"]

    /// The candidate gateway (a ``GatewayInfo/id``).
    public var gateway: String
    /// Where its latency came from: `probed` (this node probed it in the round), `shared` (the
    /// cloud's median over distinct observers) or `unmeasured`. A later daemon may add values.
    public var basis: String
    /// The content latency the decision used, in milliseconds (measured, or estimated and
    /// hop-adjusted); `nil` when unmeasured or failed.
    public var contentLatencyMs: Double?
    /// Distinct observers behind a shared estimate (1 for this node's own probe).
    public var observers: Int
    /// How certain a shared estimate is: the interquartile range of its observers' latencies,
    /// in milliseconds; `nil` below two observers (and from daemons that do not report it).
    public var spreadMs: Double?
    /// Nodes of the cloud that use it, by their selection announcements.
    public var clients: Int
    /// The value compared, in milliseconds: the latency, or in collaborative mode the latency
    /// predicted at the gateway's load with this node on it; `nil` when it has no latency.
    public var score: Double?
    /// Whether it could be chosen (measured, and not failing).
    public var usable: Bool
    /// Whether it is the gateway this node used before the round.
    public var isPrevious: Bool
    /// Whether the round chose it.
    public var chosen: Bool

    /// Creates a candidate row.
    ///
    /// - Parameters:
    ///   - gateway: the gateway's ID.
    ///   - basis: `probed`, `shared` or `unmeasured` (see ``bases``).
    ///   - contentLatencyMs: the latency used, in milliseconds, or `nil`.
    ///   - observers: distinct observers behind it.
    ///   - spreadMs: the interquartile range of their latencies in milliseconds, or `nil`.
    ///   - clients: nodes using it.
    ///   - score: the compared value in milliseconds, or `nil`.
    ///   - usable: whether it could be chosen.
    ///   - isPrevious: whether it was the gateway before the round.
    ///   - chosen: whether the round chose it.
    public init(
        gateway: String, basis: String, contentLatencyMs: Double?, observers: Int, spreadMs: Double? = nil, clients: Int,
        score: Double?, usable: Bool, isPrevious: Bool, chosen: Bool
    ) {
        self.gateway = gateway
        self.basis = basis
        self.contentLatencyMs = contentLatencyMs
        self.observers = observers
        self.spreadMs = spreadMs
        self.clients = clients
        self.score = score
        self.usable = usable
        self.isPrevious = isPrevious
        self.chosen = chosen
    }

    enum CodingKeys: String, CodingKey {
        case gateway
        case basis
        case contentLatencyMs = "content_latency_ms"
        case observers
        case spreadMs = "spread_ms"
        case clients
        case score
        case usable
        case isPrevious = "is_previous"
        case chosen
    }

    /// Decodes a candidate row; missing optional fields read as `nil`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gateway = try container.decode(String.self, forKey: .gateway)
        basis = try container.decode(String.self, forKey: .basis)
        contentLatencyMs = try container.decodeIfPresent(Double.self, forKey: .contentLatencyMs)
        observers = try container.decodeIfPresent(Int.self, forKey: .observers) ?? 0
        spreadMs = try container.decodeIfPresent(Double.self, forKey: .spreadMs)
        clients = try container.decodeIfPresent(Int.self, forKey: .clients) ?? 0
        score = try container.decodeIfPresent(Double.self, forKey: .score)
        usable = try container.decode(Bool.self, forKey: .usable)
        isPrevious = try container.decodeIfPresent(Bool.self, forKey: .isPrevious) ?? false
        chosen = try container.decodeIfPresent(Bool.self, forKey: .chosen) ?? false
    }

    /// Encodes a candidate row, writing `null` for unknown optional fields rather than omitting them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(gateway, forKey: .gateway)
        try container.encode(basis, forKey: .basis)
        try container.encode(contentLatencyMs, forKey: .contentLatencyMs)
        try container.encode(observers, forKey: .observers)
        try container.encode(spreadMs, forKey: .spreadMs)
        try container.encode(clients, forKey: .clients)
        try container.encode(score, forKey: .score)
        try container.encode(usable, forKey: .usable)
        try container.encode(isPrevious, forKey: .isPrevious)
        try container.encode(chosen, forKey: .chosen)
    }
}

/// The answer of `POST /v1/selection/refresh` (HTTP 202): whether a new selection round was
/// started.
///
/// The round runs in the background; its outcome appears in `GET /v1/selection` and as a
/// `selection` event on `GET /v1/events` when the choice changes.
public struct RefreshResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// `true` when a round was started (or queued); `false` when the daemon did not start one,
    /// for example because a round is already under way.
    public var accepted: Bool
    /// One sentence for the operator saying what happens now.
    public var message: String

    /// Creates a refresh response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - accepted: whether a round was started.
    ///   - message: one sentence for the operator.
    public init(schema: Int = APISchema.version, version: String, accepted: Bool, message: String) {
        self.schema = schema
        self.version = version
        self.accepted = accepted
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case accepted
        case message
    }
}
