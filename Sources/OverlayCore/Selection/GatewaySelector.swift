/// Gateway selection for one node: RIMO (Algorithms 1-3), its baselines, and the collaborative
/// extension that uses the cloud's shared measurements, as a pure two-phase state machine.
///
/// A round has two halves so that the shell can do the real HTTP probes in between:
/// ``beginRound(now:reason:)`` filters, weighs and draws the candidates and says which to probe;
/// ``completeRound(_:now:)`` takes the round (its probe results are in the store) and decides, with an
/// explanation. Between rounds the shell feeds in gossiped observations and selection
/// announcements (the two `receive` methods), gateway, hop and preference updates, and asks
/// ``pendingReselection(now:)`` whether a round is due.
///
/// It never reads a clock (every input carries `now`), never draws global randomness (it owns a
/// ``DeterministicRandom``), never does IO, and sorts before it iterates over any set or map
/// where the order could change a result. Same seed, same inputs: same decisions.
public struct GatewaySelector: Sendable {
    /// How candidates are drawn and judged.
    public enum Strategy: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// One gateway uniformly at random, no probe (the paper's non-informed baseline).
        case random
        /// Two gateways uniformly at random, probe both, take the better (the paper's "Power of
        /// Two" baseline, after Mitzenmacher 2001).
        case powerOfTwo = "power-of-two"
        /// Probe every eligible gateway, take the best (the paper's informed baseline; it herds).
        case bruteForce = "brute-force"
        /// RIMO exactly: Algorithm 1's filter and weights, Algorithm 2's two weighted draws plus
        /// the previous gateway, all probed, Algorithm 3's best.
        case rimo
        /// RIMO's draw, judged by the cloud's shared estimates; a candidate is probed only when
        /// nobody measured it recently enough, within a cloud-wide budget; load-aware, with
        /// hysteresis. The default.
        case collaborative

        public var description: String { rawValue }
    }

    /// This node.
    public let node: NodeID
    /// The strategy in force; may be changed between rounds.
    public var strategy: Strategy
    /// The parameters.
    public let settings: SelectorSettings
    /// The user's preferences (RIMO Algorithm 1's `preferences`).
    public private(set) var preferences: GatewayPreferences
    /// The hop counts from the routing daemon; entries override the gateways' static hops.
    public private(set) var hopTable = HopTable()
    /// The gossiped observations, this node's own included, with their signed items and load
    /// stamps: the node's one store of them.
    public private(set) var observations: ObservationStore
    /// The cloud's gateway load, from selection announcements, this node's own included.
    public private(set) var load = GatewayLoad()
    /// The gateway in use, if any.
    public private(set) var current: GatewayID?
    /// The last round's decision.
    public private(set) var lastDecision: SelectionDecision?
    /// When the next periodic round is due (jittered, ``SelectorSettings/reselectionJitter``).
    public private(set) var nextPeriodicRoundAt: Instant?
    /// When a retry round is due, after a round without a measured choice.
    public private(set) var retryAt: Instant?
    /// The number of live members of the cloud, this node included; sizes the collaborative
    /// probe budget. The shell updates it from membership. Default 1 (probe whatever is missing).
    public var cloudSize: Int = 1

    private var known: [GatewayID: Gateway] = [:]
    private var rng: DeterministicRandom
    private var roundCounter: UInt64 = 0
    private var observationSequence: UInt64 = 0
    private var announcementSequence: UInt64 = 0
    /// The current gateway's latency in the latest round, for the degradation trigger.
    private var currentBaseline: Duration?

    /// Creates a selector that has chosen nothing yet.
    ///
    /// - Parameters:
    ///   - node: this node's ID (the observer of its probes, the announcer of its choices).
    ///   - strategy: default ``Strategy/collaborative``.
    ///   - settings: default ``SelectorSettings/standard``.
    ///   - preferences: default: every gateway allowed.
    ///   - seed: the seed of the selector's generator; the daemon draws it from the OS.
    public init(
        node: NodeID, strategy: Strategy = .collaborative, settings: SelectorSettings = .standard,
        preferences: GatewayPreferences = GatewayPreferences(), seed: UInt64
    ) {
        self.node = node
        self.strategy = strategy
        self.settings = settings
        self.preferences = preferences
        self.observations = ObservationStore(settings: settings)
        self.rng = DeterministicRandom(seed: seed)
    }

    // MARK: Inputs between rounds

    /// Every known gateway (configured and announced), in name order.
    public var gateways: [Gateway] { known.keys.sorted().compactMap { known[$0] } }

    /// Replaces the known gateways (the shell merges the config file and announcements).
    /// A later entry with the same name replaces an earlier one.
    public mutating func updateGateways(_ gateways: [Gateway]) {
        known = [:]
        for gateway in gateways { known[gateway.id] = gateway }
    }

    /// Replaces the hop table, after a successful read of the routing daemon
    /// (``HopTableCache`` keeps the last good one).
    public mutating func updateHops(_ table: HopTable) { hopTable = table }

    /// Replaces the preferences.
    ///
    /// - Returns: ``ReselectionReason/preferencesChanged`` if they changed: the shell should
    ///   begin a round with that reason.
    @discardableResult
    public mutating func updatePreferences(_ preferences: GatewayPreferences) -> ReselectionReason? {
        guard preferences != self.preferences else { return nil }
        self.preferences = preferences
        return .preferencesChanged
    }

    /// Takes in a verified observation from gossip (or this node's own), stamped with its
    /// gateway's current clients (``ObservationStore``).
    ///
    /// - Parameters:
    ///   - observation: the observation.
    ///   - item: the signed item it came in (or this node signed), kept for push-pull.
    ///   - now: the current time.
    @discardableResult
    public mutating func receive(_ observation: Observation, item: SignedItem? = nil, now: Instant) -> ObservationStore.InsertOutcome {
        observations.insert(observation, item: item, clients: clients(of: observation.gateway), now: now)
    }

    /// Takes in a verified selection announcement from gossip.
    ///
    /// - Returns: `true` if the load table changed.
    @discardableResult
    public mutating func receive(_ announcement: SelectionAnnouncement) -> Bool {
        load.apply(announcement)
    }

    /// Forgets a node that failed or left: its observations and its load.
    public mutating func forget(node other: NodeID) {
        observations.forget(observer: other)
        load.forget(node: other)
    }

    /// Housekeeping: drops stale observations.
    public mutating func expire(now: Instant) {
        observations.expire(now: now)
    }

    /// Builds this node's observation of a probe it made, with the next sequence number and
    /// its current hop count to the gateway.
    ///
    /// Sequence numbers are at least the current Unix time in ms, so they keep growing across a
    /// restart and other nodes do not take new observations for replays.
    ///
    /// - Parameters:
    ///   - gateway: the gateway probed.
    ///   - contentLatency: time to the last byte; `nil` on failure.
    ///   - timeToFirstByte: time to the first byte, if any arrived.
    ///   - failure: why it failed; `nil` on success.
    ///   - bytes: bytes received.
    ///   - now: when the probe was taken (the daemon passes the time it finished).
    public mutating func makeObservation(
        of gateway: GatewayID, contentLatency: Duration?, timeToFirstByte: Duration? = nil,
        failure: ProbeFailure? = nil, bytes: Int = 0, now: Instant
    ) -> Observation {
        observationSequence = max(observationSequence + 1, UInt64(max(0, now.milliseconds)))
        return Observation(
            observer: node, gateway: gateway, contentLatency: contentLatency, timeToFirstByte: timeToFirstByte,
            failure: failure, bytes: bytes, hops: known[gateway].flatMap { hops(of: $0) }, takenAt: now,
            sequence: observationSequence)
    }

    // MARK: Queries

    /// This node's hop count to `gateway`: the hop table's entry for its
    /// ``Gateway/hopKey``, else its static hop count, else unknown.
    public func hops(of gateway: Gateway) -> Int? {
        hopTable.hops(for: gateway.hopKey) ?? gateway.hops
    }

    /// RIMO Algorithm 1 on the known gateways: Γweighted, the gateways without a
    /// ``GatewayExclusion`` (``exclusion(of:)``: the paper's filter, and a gateway the routing
    /// daemon reports unreachable is not available at all), weighed by hops.
    public func eligibleGateways() -> [WeightedGateway] {
        Rimo.weigh(gateways.filter { exclusion(of: $0) == nil }, maxHops: settings.maxHops) { hops(of: $0) }
    }

    /// The cloud's estimate of `gateway` as seen from this node at the gateway's present load:
    /// every fresh observation, hop-adjusted and carried over by the gateway's ``LoadModel``
    /// from the clients it had when the observation arrived to the clients it has now.
    public func estimate(for gateway: GatewayID, now: Instant) -> GatewayEstimate? {
        estimate(for: gateway, hops: known[gateway].flatMap { hops(of: $0) }, now: now)
    }

    private func estimate(for gateway: GatewayID, hops: Int?, now: Instant) -> GatewayEstimate? {
        let model = loadModel(of: gateway)
        let present = model.factor(clients: clients(of: gateway))
        let store = observations
        return observations.estimate(for: gateway, hops: hops, now: now, rescale: { observation in
            guard let then = store.clients(when: observation.observer, measured: gateway) else { return 1 }
            return present / model.factor(clients: then)
        })
    }

    /// The load model of `gateway`: its capacity and the assumed background share.
    public func loadModel(of gateway: GatewayID) -> LoadModel {
        LoadModel(
            capacity: known[gateway].map { capacity(of: $0) } ?? settings.assumedCapacity,
            background: settings.backgroundShare)
    }

    /// A test that passes the observations of `gateway` taken while its clients were within
    /// ``SelectorSettings/loadChangeTolerance`` of what they are now (their load stamps,
    /// ``ObservationStore``); an observation without a stamp counts.
    public func describesLoad(of gateway: GatewayID) -> (Observation) -> Bool {
        let now = clients(of: gateway)
        let tolerance = known[gateway].map { settings.loadChangeAllowance(capacity: capacity(of: $0)) }
            ?? settings.loadChangeAllowance(capacity: settings.assumedCapacity)
        let store = observations
        return { observation in
            guard let then = store.clients(when: observation.observer, measured: observation.gateway) else { return true }
            return abs(now - then) <= tolerance
        }
    }

    /// The clients counted against `gateway`: its selection announcements in this cloud, or the
    /// gateway's own announced count if larger (it may serve other clouds too).
    public func clients(of gateway: GatewayID) -> Int {
        max(load.clients(of: gateway), known[gateway]?.announcedClients ?? 0)
    }

    /// The client capacity counted for `gateway`: advertised, or
    /// ``SelectorSettings/assumedCapacity``; at least 1.
    public func capacity(of gateway: Gateway) -> Int { max(1, gateway.capacity ?? settings.assumedCapacity) }

    /// The earliest instant at which ``pendingReselection(now:)`` may become due by the clock
    /// alone (a retry or the periodic round), for the shell's timer.
    public var nextRoundDue: Instant? {
        guard lastDecision != nil else { return nil }
        return [retryAt, nextPeriodicRoundAt].compactMap { $0 }.min()
    }

    /// Whether a reselection is due, and why (RIMO: "every time a user needs a new gateway").
    ///
    /// Checked in order: never selected (start); a retry came due; the current gateway is no
    /// longer eligible; this node's own probe of it failed, or most observers see it failing;
    /// its estimate degraded past ``SelectorSettings/degradationRatio`` of its latency in the
    /// last round; the periodic round came due. Only evidence newer than the last decision
    /// counts, so a gateway kept on purpose does not trigger a round after every round.
    /// Preference changes and operator requests come from ``updatePreferences(_:)`` and the
    /// shell. The caller holds the round in progress (``GatewayGossip/RoundState``) and asks
    /// only between rounds.
    public func pendingReselection(now: Instant) -> ReselectionReason? {
        guard let lastDecision else { return .start }
        if let retryAt, now >= retryAt { return .retry }
        if let current {
            guard eligibleGateways().contains(where: { $0.id == current }) else { return .currentUnavailable }
            let decidedAt = lastDecision.decidedAt
            if let own = observations.latest(of: current, by: node), !own.succeeded, own.takenAt > decidedAt {
                return .currentFailed
            }
            if let estimate = estimate(for: current, now: now), now - estimate.age > decidedAt {
                if estimate.isFailing { return .currentFailed }
                if let baseline = currentBaseline,
                   Double(estimate.contentLatency.milliseconds) >= settings.degradationRatio * Double(baseline.milliseconds),
                   estimate.contentLatency - baseline >= settings.degradationMinimum {
                    return .currentDegraded
                }
            }
        }
        if let nextPeriodicRoundAt, now >= nextPeriodicRoundAt { return .periodic }
        return nil
    }

    // MARK: The round

    /// Begins a selection round: RIMO Algorithm 1 (filter and weights) and Algorithm 2's
    /// candidate draw, and the list of candidates to probe.
    ///
    /// The selector keeps no round state: the caller holds the round until it completes it
    /// (one begun and never completed is simply abandoned). Per strategy: `random` draws one gateway and probes
    /// nothing; `power-of-two` draws two uniformly and probes both; `brute-force` probes every
    /// eligible gateway; `rimo` draws two by weight plus the previous gateway and probes all
    /// three (Algorithm 2, lines 3-7); `collaborative` draws as RIMO and probes only the
    /// candidates that the cloud has not measured enough (see ``SelectorSettings/targetObserversPerPeriod``).
    ///
    /// - Parameters:
    ///   - now: the current time.
    ///   - reason: why the round starts.
    /// - Returns: the round; probe its ``SelectionRound/probes``, give the results to
    ///   ``receive(_:item:now:)`` and complete it with ``completeRound(_:now:)``.
    public mutating func beginRound(now: Instant, reason: ReselectionReason) -> SelectionRound {
        roundCounter += 1
        let eligible = eligibleGateways()
        var candidates: [WeightedGateway] = []
        var probes: [Gateway] = []
        var shared: [GatewayID] = []
        switch strategy {
        case .random:
            if let pick = eligible.randomElement(using: &rng) { candidates = [pick] }
        case .powerOfTwo:
            candidates = Array(eligible.shuffled(using: &rng).prefix(2))
            probes = candidates.map(\.gateway)
        case .bruteForce:
            candidates = eligible
            probes = candidates.map(\.gateway)
        case .rimo:
            candidates = Rimo.candidates(from: eligible, previous: current, count: settings.candidateCount, using: &rng)
            probes = candidates.map(\.gateway)
        case .collaborative:
            candidates = Rimo.candidates(from: eligible, previous: current, count: settings.candidateCount, using: &rng)
            (probes, shared) = planProbes(candidates: candidates, eligibleCount: eligible.count, now: now)
        }
        let round = SelectionRound(
            number: roundCounter, strategy: strategy, reason: reason, startedAt: now, eligible: eligible,
            candidates: candidates, probes: probes, shared: shared)
        return round
    }

    /// Completes a round begun with ``beginRound(now:reason:)``: RIMO Algorithm 3, or the
    /// collaborative judgement, and the explanation.
    ///
    /// The round's probe results are this node's observations of its probes in the store, taken
    /// since the round began (the shell gives each to ``receive(_:item:now:)`` as it reports;
    /// a failed probe is an observation too, one that never reported counts as not measured).
    /// Baseline strategies and `rimo` judge only this round's probes; `collaborative` judges
    /// every candidate by the cloud's estimate (which includes this node's fresh probes),
    /// weighs in the gossiped load, keeps the current gateway unless another is clearly better,
    /// and picks at random among equally good ones.
    ///
    /// - Parameters:
    ///   - round: the round, as ``beginRound(now:reason:)`` returned it.
    ///   - now: the current time.
    /// - Returns: the decision; gossip its ``SelectionDecision/announcement`` if there is one.
    public mutating func completeRound(_ round: SelectionRound, now: Instant) -> SelectionDecision {
        var own: [GatewayID: Observation] = [:]
        for probe in round.probes {
            if let result = observations.latest(of: probe.id, by: node), result.takenAt >= round.startedAt { own[probe.id] = result }
        }
        let previous = current
        var verdict: Verdict
        let assessments: [CandidateAssessment]
        switch round.strategy {
        case .random:
            assessments = round.candidates.map { assessBlind($0) }
            verdict = judgeRandom(assessments)
        case .powerOfTwo, .bruteForce, .rimo:
            assessments = round.candidates.map { assessProbe($0, result: own[$0.id]) }
            verdict = judgeBest(assessments, strategy: round.strategy)
        case .collaborative:
            assessments = round.candidates.map { assessShared($0, probed: own[$0.id] != nil, now: now) }
            verdict = judgeCollaborative(assessments, previous: previous, now: now)
        }
        if round.candidates.isEmpty {
            verdict = Verdict(
                chosen: nil, provisional: false,
                explanation: "No gateway passes the preferences and the \(horizon)-hop horizon (\(known.count) known), so none is used.")
        }

        var announcement: SelectionAnnouncement?
        if verdict.chosen != previous {
            announcementSequence = max(announcementSequence + 1, UInt64(max(0, now.milliseconds)))
            let made = SelectionAnnouncement(node: node, gateway: verdict.chosen, sequence: announcementSequence, announcedAt: now)
            load.apply(made)
            announcement = made
        }
        current = verdict.chosen
        // The degradation trigger compares against the latency seen in the latest round, so a
        // gateway kept despite a slow drift does not trigger a round after every round.
        let chosenLatency = assessments.first { $0.gateway == verdict.chosen }?.contentLatency
        currentBaseline = verdict.chosen == nil ? nil : (chosenLatency ?? (verdict.chosen == previous ? currentBaseline : nil))
        retryAt = (verdict.chosen == nil || verdict.provisional) ? now + settings.retryInterval : nil
        let spread = settings.reselectionJitter > 0
            ? Double.random(in: -settings.reselectionJitter...settings.reselectionJitter, using: &rng) : 0
        nextPeriodicRoundAt = now + settings.reselectionPeriod.scaled(by: 1 + spread)

        let decision = SelectionDecision(
            round: round.number, strategy: round.strategy, reason: round.reason, decidedAt: now, previous: previous,
            chosen: verdict.chosen, candidates: assessments, explanation: verdict.explanation,
            announcement: announcement, retryAt: retryAt)
        lastDecision = decision
        return decision
    }

    // MARK: Collaborative probe planning

    /// Decides which collaborative candidates to probe, within the cloud-wide probe budget.
    ///
    /// The cloud spends ``SelectorSettings/probeBudget`` probes per node and round, on average:
    /// `perGateway = probeBudget · cloudSize / eligible` per gateway and round. A gateway is a
    /// candidate of `contenders = users + (cloudSize - users) · min(1, candidateCount / (eligible - 1))`
    /// nodes per round (its users always hold it; the others draw it with about that chance),
    /// so each contender probes it with `perGateway · need / contenders`, where `need` is 1
    /// while fewer than ``SelectorSettings/targetObserversPerPeriod`` nodes measured it at its
    /// present load (``describesLoad(of:)``: it is stale, unmeasured or its load moved) and ½
    /// otherwise. Probes thus go where the estimates are least certain, the cloud spends at most
    /// the budget in expectation whatever its size, and the draw (from the selector's seeded
    /// generator) decides who probes, so that not everybody probes at once. A candidate that
    /// nobody measured within the freshness window is always probed (there is nothing to share:
    /// a lone node, a new gateway, a cloud's first round); one not probed is judged by the
    /// shared estimate.
    private mutating func planProbes(
        candidates: [WeightedGateway], eligibleCount: Int, now: Instant
    ) -> (probes: [Gateway], shared: [GatewayID]) {
        var probes: [Gateway] = []
        var shared: [GatewayID] = []
        let cloud = Double(max(1, cloudSize))
        let eligible = Double(max(1, eligibleCount))
        let drawShare = min(1, Double(settings.candidateCount) / max(1, eligible - 1))
        let perGateway = settings.probeBudget * cloud / eligible
        for candidate in candidates {
            let describes = describesLoad(of: candidate.id)
            let observers = observations.observerCount(of: candidate.id, now: now, where: describes)
            let users = min(cloud, Double(load.clients(of: candidate.id)))
            let contenders = max(1, users + (cloud - users) * drawShare)
            let need = observers < settings.targetObserversPerPeriod ? 1.0 : 0.5
            // Nobody measured it within the freshness window: there is nothing to share, so the
            // node probes it itself (a lone node, a new gateway, the first round of a cloud).
            let unknown = observations.observerCount(of: candidate.id, now: now) == 0
            let chance = unknown ? 1 : perGateway * need / contenders
            if chance >= 1 || Double.random(in: 0..<1, using: &rng) < chance {
                probes.append(candidate.gateway)
            } else {
                shared.append(candidate.id)
            }
        }
        return (probes, shared)
    }

    // MARK: Judging

    private struct Verdict {
        var chosen: GatewayID?
        /// Chosen without any measurement; a retry round follows.
        var provisional: Bool
        var explanation: String
    }

    private func assessBlind(_ candidate: WeightedGateway) -> CandidateAssessment {
        CandidateAssessment(
            gateway: candidate.id, hops: candidate.hops, weight: candidate.weight, isPrevious: candidate.id == current,
            basis: .unmeasured, contentLatency: nil, failure: nil, observerCount: 0, clients: clients(of: candidate.id),
            capacity: capacity(of: candidate.gateway), score: nil, usable: true)
    }

    private func assessProbe(_ candidate: WeightedGateway, result: Observation?) -> CandidateAssessment {
        let latency = result?.succeeded == true ? result?.contentLatency : nil
        return CandidateAssessment(
            gateway: candidate.id, hops: candidate.hops, weight: candidate.weight, isPrevious: candidate.id == current,
            basis: result == nil ? .unmeasured : .probed, contentLatency: latency, failure: result?.failure,
            observerCount: result == nil ? 0 : 1, clients: clients(of: candidate.id),
            capacity: capacity(of: candidate.gateway), score: latency, usable: latency != nil)
    }

    private func assessShared(_ candidate: WeightedGateway, probed: Bool, now: Instant) -> CandidateAssessment {
        let estimate = estimate(for: candidate.id, hops: candidate.hops, now: now)
        let mine = observations.observations(of: candidate.id, now: now).first { $0.observer == node }
        let ownFailure = mine.flatMap { $0.succeeded ? nil : $0.failure }
        let clients = clients(of: candidate.id)
        let capacity = capacity(of: candidate.gateway)
        // The score is the latency predicted with this node's move included: the current
        // gateway already counts this node, another one would have one client more.
        let joining = candidate.id == current ? 0 : 1
        let score = estimate.map { loadModel(of: candidate.id).rescale($0.contentLatency, from: clients, to: clients + joining) }
        let basis: CandidateAssessment.Basis = probed ? .probed : (estimate == nil ? .unmeasured : .shared)
        return CandidateAssessment(
            gateway: candidate.id, hops: candidate.hops, weight: candidate.weight, isPrevious: candidate.id == current,
            basis: basis, contentLatency: estimate?.contentLatency, failure: ownFailure,
            observerCount: estimate?.observerCount ?? 0, spread: estimate?.spread, clients: clients, capacity: capacity, score: score,
            usable: estimate != nil && ownFailure == nil && estimate?.isFailing == false)
    }

    private mutating func judgeRandom(_ assessments: [CandidateAssessment]) -> Verdict {
        guard let pick = assessments.first else { return Verdict(chosen: nil, provisional: false, explanation: "") }
        return Verdict(
            chosen: pick.gateway, provisional: false,
            explanation: "Chose \(pick.gateway) uniformly at random among the eligible gateways, without measuring (random baseline).")
    }

    /// RIMO Algorithm 3 (and the power-of-two and brute-force baselines): the best probed.
    private func judgeBest(_ assessments: [CandidateAssessment], strategy: Strategy) -> Verdict {
        let samples = assessments.compactMap { assessment in
            assessment.contentLatency.map { Rimo.Sample(gateway: assessment.gateway, contentLatency: $0, hops: assessment.hops) }
        }
        guard let best = Rimo.best(samples) else {
            return Verdict(
                chosen: nil, provisional: false,
                explanation: "None of the \(assessments.count) probed candidate(s) answered its probe, so no gateway is used.")
        }
        return Verdict(
            chosen: best.gateway, provisional: false,
            explanation: "Chose \(best.gateway): the lowest content latency (\(ms(best.contentLatency))) of \(samples.count) answering candidate(s) out of \(assessments.count) probed (\(strategy)).")
    }

    private mutating func judgeCollaborative(_ assessments: [CandidateAssessment], previous: GatewayID?, now: Instant) -> Verdict {
        let usable = assessments.filter(\.usable)
        let currentAssessment = assessments.first { $0.gateway == previous }
        guard let best = usable.min(by: Self.ranksBefore) else {
            if let currentAssessment, currentAssessment.basis == .unmeasured, currentAssessment.failure == nil {
                return Verdict(
                    chosen: currentAssessment.gateway, provisional: true,
                    explanation: "Kept \(currentAssessment.gateway): no candidate has been measured yet, by this node or the cloud.")
            }
            if previous == nil, let blind = assessments.first(where: { $0.basis == .unmeasured && $0.failure == nil }) {
                return Verdict(
                    chosen: blind.gateway, provisional: true,
                    explanation: "Chose \(blind.gateway) provisionally, as drawn by hop weight: nobody has measured any candidate yet, and a retry round follows.")
            }
            return Verdict(
                chosen: nil, provisional: false,
                explanation: "No candidate is usable (\(assessments.count) considered: failing or unmeasured), so no gateway is used.")
        }
        let bestScore = best.score ?? .zero
        let equivalent = usable.filter { !settings.isClearlyBetter(bestScore, than: $0.score ?? .zero) }
            .sorted { $0.gateway < $1.gateway }
        if let currentAssessment, currentAssessment.usable, let currentScore = currentAssessment.score {
            let challengers = equivalent.filter {
                $0.gateway != currentAssessment.gateway && settings.isClearlyBetter($0.score ?? .zero, than: currentScore)
            }
            guard let pick = leastLoaded(challengers).randomElement(using: &rng) else {
                let alternative = usable.filter { $0.gateway != currentAssessment.gateway }.min(by: Self.ranksBefore)
                let comparison = alternative.map {
                    " (best alternative \($0.gateway) scores \(ms($0.score)) against \(ms(currentScore)))"
                } ?? ""
                return Verdict(
                    chosen: currentAssessment.gateway, provisional: false,
                    explanation: "Kept \(currentAssessment.gateway): no candidate is better by at least \(Int(settings.switchGainRatio * 100))% and \(ms(settings.switchGainMinimum))\(comparison).")
            }
            let migration = migration(to: pick, leaving: currentScore, now: now)
            guard migration.chance >= 1 || Double.random(in: 0..<1, using: &rng) < migration.chance else {
                return Verdict(
                    chosen: currentAssessment.gateway, provisional: false,
                    explanation: "Kept \(currentAssessment.gateway) (score \(ms(currentScore))) this round although \(pick.gateway) scores \(ms(pick.score)): it has room for about \(migration.room) more client(s) and about \(Int(migration.movers.rounded())) node(s) may move to it, so each moves with chance \(Int((migration.chance * 100).rounded()))% (damped migration, so the cloud does not herd).")
            }
            return Verdict(
                chosen: pick.gateway, provisional: false,
                explanation: "Switched from \(currentAssessment.gateway) (score \(ms(currentScore))) to \(pick.gateway) (score \(ms(pick.score))), clearly better\(among(challengers.count))\(migration.chance < 1 ? " (moved with chance \(Int((migration.chance * 100).rounded()))%: room for about \(migration.room), about \(Int(migration.movers.rounded())) may move)" : "").")
        }
        let pick = leastLoaded(equivalent).randomElement(using: &rng) ?? best
        let lead = previous.map { "The previous gateway \($0) is unusable, so chose" } ?? "Chose"
        return Verdict(
            chosen: pick.gateway, provisional: false,
            explanation: "\(lead) \(pick.gateway) (score \(ms(pick.score)), \(pick.basis == .probed ? "probed" : "from \(pick.observerCount) observer(s)"))\(among(equivalent.count)).")
    }

    /// Damped migration (Fischer and Vöcking 2009): the chance that this node moves to `target`
    /// this round, sized so that the nodes that may move at once fill the target's room and
    /// no more.
    ///
    /// `room` is how many more clients the target can take while it stays clearly better than
    /// `currentScore` (``LoadModel/room(latency:clients:below:)``); `movers` is how many nodes
    /// may want to move to it on the same information: the clients of every eligible gateway
    /// the target is clearly better than, times the chance that RIMO's draw offers it to them
    /// (`candidateCount / (eligible - 1)`), this node at least. The chance is `room / movers`,
    /// at most 1: a lone node moves at once, a crowd moves a room's worth at a time.
    private func migration(to target: CandidateAssessment, leaving currentScore: Duration, now: Instant)
        -> (chance: Double, room: Int, movers: Double)
    {
        guard let latency = target.contentLatency, let targetScore = target.score else { return (1, 1, 1) }
        let ratioBound = currentScore.scaled(by: 1 - settings.switchGainRatio)
        let bound = min(ratioBound, currentScore - settings.switchGainMinimum)
        let room = max(1, loadModel(of: target.gateway).room(latency: latency, clients: target.clients, below: bound))
        let eligible = eligibleGateways()
        let drawShare = min(1, Double(settings.candidateCount) / Double(max(1, eligible.count - 1)))
        var movers = 0.0
        for gateway in eligible where gateway.id != target.gateway {
            let users = clients(of: gateway.id)
            guard users > 0, let estimate = estimate(for: gateway.id, hops: gateway.hops, now: now),
                  settings.isClearlyBetter(targetScore, than: estimate.contentLatency) else { continue }
            movers += Double(users) * drawShare
        }
        movers = max(1, movers)
        return (min(1, Double(room) / movers), room, movers)
    }

    /// Among equally good candidates, the least loaded ones (the power of two choices: join the
    /// shorter queue). With the same load, as when many nodes choose at once, all of them, and
    /// the random pick spreads the nodes.
    private func leastLoaded(_ assessments: [CandidateAssessment]) -> [CandidateAssessment] {
        guard let lowest = assessments.map(\.utilisation).min() else { return [] }
        return assessments.filter { $0.utilisation <= lowest + 1e-9 }
    }

    /// Orders usable assessments by score, then hops, then name.
    private static func ranksBefore(_ lhs: CandidateAssessment, _ rhs: CandidateAssessment) -> Bool {
        ((lhs.score ?? .zero).milliseconds, lhs.hops, lhs.gateway) < ((rhs.score ?? .zero).milliseconds, rhs.hops, rhs.gateway)
    }

    private func among(_ count: Int) -> String {
        count > 1 ? ", the least loaded of \(count) equally good candidates (ties drawn at random)" : ""
    }

    private func ms(_ duration: Duration?) -> String { duration.map { "\($0.milliseconds) ms" } ?? "?" }
}
