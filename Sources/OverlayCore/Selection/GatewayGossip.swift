import OverlayWire

/// One probe the shell must run: an HTTP GET of the probe object through `gateway.proxy`.
public struct GatewayProbe: Sendable, Equatable {
    /// The round that asked for it (a result of another round still counts as an observation).
    public let round: UInt64
    /// The gateway, with the proxy to go through.
    public let gateway: Gateway

    /// Creates a probe request.
    public init(round: UInt64, gateway: Gateway) {
        self.round = round
        self.gateway = gateway
    }
}

/// What the shell measured for a ``GatewayProbe``: a success has a content latency, a failure
/// a ``ProbeFailure``.
public struct ProbeResult: Sendable, Equatable {
    /// The round of the probe.
    public let round: UInt64
    /// The gateway probed.
    public let gateway: GatewayID
    /// Time from sending the request to the last byte of the object; `nil` on failure.
    public let contentLatency: Duration?
    /// Time to the first byte of the answer, if one came.
    public let timeToFirstByte: Duration?
    /// Why the probe failed; `nil` on success.
    public let failure: ProbeFailure?
    /// Bytes of the object received.
    public let bytes: Int

    /// Creates a result.
    public init(
        round: UInt64, gateway: GatewayID, contentLatency: Duration?, timeToFirstByte: Duration? = nil,
        failure: ProbeFailure? = nil, bytes: Int = 0
    ) {
        self.round = round
        self.gateway = gateway
        self.contentLatency = contentLatency
        self.timeToFirstByte = timeToFirstByte
        self.failure = failure
        self.bytes = bytes
    }
}

/// The gateway part of one node's protocol: the ``GatewaySelector``, the signed gateway items
/// the node holds (observations, gateway announcements, selection announcements), and the
/// timing of rounds and announcements.
///
/// A pure state machine in the instance / directive style: inputs are the methods below, each
/// taking `now`; outputs are ``Output`` values that the ``Agent`` turns into dissemination
/// (``Output/broadcast(_:)``) or directives for the shell (probes, decisions). It signs its own
/// items with the node's ``MessageSigner``, draws randomness from its own seeded generator and
/// never reads a clock.
///
/// Rules for received items (each receiver checks them; the agent has already verified the
/// origin's signature and admission):
/// - an observation is only valid from its observer, and the observer is the item's origin;
///   a gateway announcement is only valid from the node that runs the gateway (the first node
///   to announce a name holds it while its announcements live, and a configured gateway's name
///   can only be announced with the configured proxy); a selection announcement is only about
///   its origin. None of the messages has a field naming another node.
/// - items from a node that is not a live member are dropped (``ItemOutcome/nonMember``);
///   observations outside the freshness window or dated in the future, and announcements
///   older than their lifetime, are dropped; a sequence number not above the one held (per
///   observer and gateway, per announcing node) is a replay (``ItemOutcome/duplicate``).
/// - only accepted items are relayed.
public struct GatewayGossip: Sendable {
    /// What the gossip asks of the agent.
    public enum Output: Sendable, Equatable {
        /// Disseminate this item, signed by this node (also remember it as verified).
        case broadcast(SignedItem)
        /// Run this probe and report with ``GatewayGossip/onProbeResult(_:now:)``.
        case probe(GatewayProbe)
        /// A round was decided.
        case decided(SelectionDecision)
    }

    /// What happened to a received gateway item. The raw values are stable metric labels.
    public enum ItemOutcome: String, Sendable, Hashable, CaseIterable {
        /// New information, kept and relayed.
        case accepted
        /// Its sequence is not above the one held: a duplicate or a replay.
        case duplicate
        /// Older than the freshness window (observations) or the lifetime (announcements).
        case stale
        /// Dated further in the future than the clock-skew tolerance.
        case fromFuture = "from_future"
        /// Its origin is not a live member.
        case nonMember = "non_member"
        /// Malformed (see ``ObservationCodec`` and ``AnnouncementCodec``).
        case invalid
        /// A gateway announcement for a name another node holds, or for a configured gateway
        /// with another proxy.
        case conflict
        /// The observation store is full of newer observations.
        case crowdedOut = "crowded_out"
    }

    /// Counts of what this node did and received, for metrics and the local API.
    public struct Counters: Sendable, Equatable {
        /// Probes asked of the shell.
        public var probesRequested = 0
        /// Probe results reported back (successes and failures).
        public var probeResults = 0
        /// Selection rounds decided.
        public var rounds = 0
        /// Candidates judged by shared estimates instead of a probe, over all rounds.
        public var sharedEstimatesUsed = 0
        /// Candidates judged over all rounds (probed, shared or unmeasured).
        public var candidatesJudged = 0
        /// Rounds that changed the gateway in use.
        public var selectionChanges = 0
        /// Received gateway items by outcome.
        public var items: [ItemOutcome: Int] = [:]
    }

    /// A gateway announcement held: the statement, who made it, and its signed item.
    public struct HeldAnnouncement: Sendable, Equatable {
        /// The announcing node (the gateway's node).
        public let origin: NodeID
        /// What it said.
        public let statement: AnnouncementCodec.GatewayStatement
        /// When it said it, on its clock.
        public let issuedAt: Instant
        /// The signed item, for push-pull.
        public let item: SignedItem
    }

    /// Where this node's selection round is.
    public enum RoundState: Sendable, Equatable {
        /// No round in progress.
        case idle
        /// A round begun and waiting for its probes: the gateways that have not reported yet,
        /// and when it is decided anyway (``GatewayGossipSettings/roundDeadline(probes:)``).
        /// Probe results themselves go to the selector's one observation store.
        case probing(SelectionRound, outstanding: [GatewayID], deadline: Instant)
    }

    /// The selector, with the observations and load it was fed.
    public private(set) var selector: GatewaySelector
    /// The settings in force.
    public let settings: GatewayGossipSettings
    /// Counters.
    public private(set) var counters = Counters()
    /// The gateway announcements held, by announcing node.
    public private(set) var announcements: [NodeID: HeldAnnouncement] = [:]
    /// When the first round may start (start delay plus jitter).
    public let firstRoundAt: Instant
    /// The round in progress, if any.
    public private(set) var round: RoundState = .idle
    /// A reselection asked for (``ReselectionReason/requested`` or
    /// ``ReselectionReason/preferencesChanged``) that starts as soon as no round is pending.
    public private(set) var queuedReason: ReselectionReason?

    private let signer: any MessageSigner
    private var selectionItems: [NodeID: SignedItem] = [:]
    private var nextHousekeepingAt: Instant
    private var nextAnnounceAt: Instant?
    private var announceSequence: UInt64 = 0
    private var lastTick: Instant?

    /// Creates the gateway gossip of a starting node.
    ///
    /// - Parameters:
    ///   - signer: signs this node's observations and announcements.
    ///   - settings: gateways, preferences, selector and timings.
    ///   - seed: seeds the selector's generator and the start jitter.
    ///   - now: the start time.
    public init(signer: any MessageSigner, settings: GatewayGossipSettings, seed: UInt64, now: Instant) {
        var rng = DeterministicRandom(seed: seed)
        self.signer = signer
        self.settings = settings
        var selector = GatewaySelector(
            node: signer.nodeID, strategy: settings.strategy, settings: settings.selector,
            preferences: settings.preferences, seed: rng.next())
        selector.updateGateways(settings.gateways)
        selector.updateHops(settings.hops)
        self.selector = selector
        let jitter = settings.startJitter.milliseconds > 0
            ? Int64.random(in: 0...settings.startJitter.milliseconds, using: &rng) : 0
        self.firstRoundAt = now + settings.startDelay + .milliseconds(jitter)
        self.nextHousekeepingAt = now + settings.housekeepingInterval
        self.nextAnnounceAt = settings.localGateway == nil ? nil : now
        if settings.localGateway != nil { rebuildGateways() }
    }

    /// This node's ID.
    public var node: NodeID { selector.node }

    /// The round waiting for its probes, if any.
    public var pendingRound: SelectionRound? {
        if case .probing(let round, _, _) = round { return round }
        return nil
    }

    /// When the pending round is decided even if some probes have not reported.
    public var roundDeadline: Instant? {
        if case .probing(_, _, let deadline) = round { return deadline }
        return nil
    }

    /// The gateways the pending round still waits for.
    public var outstandingProbes: [GatewayID] {
        if case .probing(_, let outstanding, _) = round { return outstanding }
        return []
    }

    /// The earliest time ``onTick(now:cloudSize:isMember:)`` has something to do.
    ///
    /// A round that came due but could not start (one is pending, or no gateway is known yet)
    /// is checked again at the next housekeeping, so the deadline never stays in the past.
    public var nextDeadline: Instant? {
        var deadlines: [Instant?] = [nextHousekeepingAt, nextAnnounceAt, roundDeadline]
        if pendingRound == nil, let due = nextRoundAt, lastTick.map({ due > $0 }) ?? true {
            deadlines.append(due)
        }
        return deadlines.compactMap { $0 }.min()
    }

    /// When the next round is due by the clock: the first round before any decision, then the
    /// selector's retry or periodic round.
    public var nextRoundAt: Instant? {
        selector.lastDecision == nil ? firstRoundAt : selector.nextRoundDue
    }

    /// The node that announced `gateway`, if it is an announced gateway.
    public func announcer(of gateway: GatewayID) -> NodeID? {
        announcements.values.first { $0.statement.gateway == gateway }?.origin
    }

    // MARK: Inputs

    /// Handles a verified gateway item (kinds 11-13) from gossip.
    ///
    /// - Parameters:
    ///   - item: the item; its origin's signature and admission were checked.
    ///   - isMember: whether the origin is a live member (or this node).
    ///   - now: the current time.
    /// - Returns: the outcome (relay the item only if ``ItemOutcome/accepted``) and outputs
    ///   (a round, when the news says the current gateway failed).
    public mutating func receive(_ item: SignedItem, isMember: Bool, now: Instant) -> (ItemOutcome, [Output]) {
        let outcome: ItemOutcome
        var out: [Output] = []
        switch item.item.kind {
        case .observation(let message)?:
            outcome = receiveObservation(message, item: item, isMember: isMember, now: now)
            if outcome == .accepted, message.gateway == selector.current?.rawValue { out = startRoundIfDue(now: now) }
        case .selection(let message)?:
            outcome = receiveSelection(message, item: item, isMember: isMember)
        case .gateway(let message)?:
            outcome = receiveAnnouncement(message, item: item, isMember: isMember, now: now)
        default:
            outcome = .invalid
        }
        counters.items[outcome, default: 0] += 1
        return (outcome, out)
    }

    private mutating func receiveObservation(
        _ message: Overlayd_V1_GatewayObservation, item: SignedItem, isMember: Bool, now: Instant
    ) -> ItemOutcome {
        guard case .success(let observation) = ObservationCodec.decode(message, observer: item.origin) else { return .invalid }
        guard isMember else { return .nonMember }
        let outcome: ItemOutcome
        switch selector.receive(observation, item: item, now: now) {
        case .inserted, .replaced: outcome = .accepted
        case .duplicate: outcome = .duplicate
        case .stale: outcome = .stale
        case .fromFuture: outcome = .fromFuture
        case .malformed: outcome = .invalid
        case .crowdedOut: outcome = .crowdedOut
        }
        return outcome
    }

    private mutating func receiveSelection(_ message: Overlayd_V1_SelectionAnnouncement, item: SignedItem, isMember: Bool) -> ItemOutcome {
        let issuedAt = Instant(milliseconds: Int64(clamping: item.item.issuedAtMs))
        guard case .success(let announcement) = AnnouncementCodec.decode(message, node: item.origin, issuedAt: issuedAt) else {
            return .invalid
        }
        guard isMember else { return .nonMember }
        guard selector.receive(announcement) else { return .duplicate }
        selectionItems[item.origin] = item
        return .accepted
    }

    private mutating func receiveAnnouncement(
        _ message: Overlayd_V1_GatewayAnnouncement, item: SignedItem, isMember: Bool, now: Instant
    ) -> ItemOutcome {
        guard case .success(let statement) = AnnouncementCodec.decode(message) else { return .invalid }
        guard isMember else { return .nonMember }
        let issuedAt = Instant(milliseconds: Int64(clamping: item.item.issuedAtMs))
        if issuedAt < now - settings.announcementLifetime { return .stale }
        if issuedAt > now + settings.selector.clockSkewTolerance { return .fromFuture }
        if let held = announcements[item.origin], statement.sequence <= held.statement.sequence { return .duplicate }
        if let holder = announcer(of: statement.gateway), holder != item.origin { return .conflict }
        if let configured = settings.gateways.first(where: { $0.id == statement.gateway }), configured.proxy != statement.proxy {
            return .conflict
        }
        announcements[item.origin] = HeldAnnouncement(origin: item.origin, statement: statement, issuedAt: issuedAt, item: item)
        rebuildGateways()
        return .accepted
    }

    /// Fires what is due: housekeeping, this node's gateway announcement, a round whose probes
    /// are overdue, and a new round when one is due.
    ///
    /// - Parameters:
    ///   - now: the current time.
    ///   - cloudSize: live members, this node included (sizes the collaborative probe budget).
    ///   - isMember: whether a node is a live member; items of others are forgotten.
    public mutating func onTick(now: Instant, cloudSize: Int, isMember: (NodeID) -> Bool) -> [Output] {
        var out: [Output] = []
        lastTick = now
        selector.cloudSize = max(1, cloudSize)
        if now >= nextHousekeepingAt {
            nextHousekeepingAt = now + settings.housekeepingInterval
            housekeeping(now: now, isMember: isMember)
        }
        if let due = nextAnnounceAt, now >= due {
            nextAnnounceAt = now + settings.announceInterval
            out += announceLocalGateway(now: now)
        }
        if case .probing(let pending, _, let deadline) = round, now >= deadline {
            out += decide(pending, now: now)
        }
        out += startRoundIfDue(now: now)
        return out
    }

    /// Takes in the result of a probe the shell ran.
    ///
    /// The result becomes this node's signed observation (a failure too), which is gossiped and
    /// stored once, in the selector's store, where the round reads it. If it completes the
    /// pending round, the round is decided; a result that arrives after its round still counts
    /// as an observation.
    public mutating func onProbeResult(_ result: ProbeResult, now: Instant) -> [Output] {
        counters.probeResults += 1
        let observation = selector.makeObservation(
            of: result.gateway, contentLatency: result.failure == nil ? result.contentLatency : nil,
            timeToFirstByte: result.timeToFirstByte, failure: result.failure ?? (result.contentLatency == nil ? .timeout : nil),
            bytes: result.bytes, now: now)
        var out: [Output] = []
        if observation.isWellFormed {
            let item = SignedItem(kind: ObservationCodec.kind(observation), signer: signer, now: now)
            selector.receive(observation, item: item, now: now)
            out.append(.broadcast(item))
        }
        if case .probing(let pending, var outstanding, let deadline) = round, pending.number == result.round,
           let index = outstanding.firstIndex(of: result.gateway) {
            outstanding.remove(at: index)
            if outstanding.isEmpty {
                out += decide(pending, now: now)
            } else {
                round = .probing(pending, outstanding: outstanding, deadline: deadline)
            }
        } else if observation.gateway == selector.current {
            out += startRoundIfDue(now: now)
        }
        return out
    }

    /// An operator or a local service asks for a reselection: a round with reason
    /// ``ReselectionReason/requested`` starts now, or as soon as the pending one is decided.
    public mutating func requestReselection(now: Instant) -> [Output] {
        queuedReason = .requested
        return startRoundIfDue(now: now)
    }

    /// Replaces the user's preferences; a change starts a round
    /// (``ReselectionReason/preferencesChanged``).
    public mutating func updatePreferences(_ preferences: GatewayPreferences, now: Instant) -> [Output] {
        guard selector.updatePreferences(preferences) != nil else { return [] }
        // An operator's request already queued stays the reason.
        if queuedReason == nil { queuedReason = .preferencesChanged }
        return startRoundIfDue(now: now)
    }

    /// Replaces the hop table (after a good read of the routing daemon).
    public mutating func updateHops(_ table: HopTable) {
        selector.updateHops(table)
    }

    // MARK: Push-pull

    /// The gateway items a push-pull carries: every member's latest selection, the live
    /// gateway announcements, then the observations held, newest first; at most
    /// ``GatewayGossipSettings/maxSyncItems``.
    public var syncItems: [SignedItem] {
        var items = selectionItems.keys.sorted().compactMap { selectionItems[$0] }
        items += announcements.keys.sorted().compactMap { announcements[$0]?.item }
        let limit = max(0, settings.maxSyncItems)
        guard items.count < limit else { return Array(items.prefix(limit)) }
        return items + selector.observations.signedItems(limit: limit - items.count)
    }

    /// The number of signed observations held for push-pull (those of the store).
    public var heldObservationItems: Int { selector.observations.signedItemCount }

    // MARK: Rounds

    private mutating func startRoundIfDue(now: Instant) -> [Output] {
        guard case .idle = round else { return [] }
        let reason: ReselectionReason
        if let queuedReason {
            reason = queuedReason
        } else {
            guard now >= firstRoundAt, let due = selector.pendingReselection(now: now) else { return [] }
            reason = due
        }
        // Nothing to choose from yet (no gateway configured or announced): wait, unless a
        // gateway is in use and must be given up.
        guard !selector.gateways.isEmpty || selector.current != nil else { return [] }
        queuedReason = nil
        let started = selector.beginRound(now: now, reason: reason)
        guard started.needsProbes else { return decide(started, now: now) }
        round = .probing(
            started, outstanding: started.probes.map(\.id), deadline: now + settings.roundDeadline(probes: started.probes.count))
        counters.probesRequested += started.probes.count
        return started.probes.map { .probe(GatewayProbe(round: started.number, gateway: $0)) }
    }

    private mutating func decide(_ decided: SelectionRound, now: Instant) -> [Output] {
        let decision = selector.completeRound(decided, now: now)
        round = .idle
        var out: [Output] = []
        if let announcement = decision.announcement {
            let item = SignedItem(kind: AnnouncementCodec.kind(announcement), signer: signer, now: now)
            selectionItems[node] = item
            out.append(.broadcast(item))
        }
        counters.rounds += 1
        counters.candidatesJudged += decision.candidates.count
        counters.sharedEstimatesUsed += decision.shared.count
        if decision.changed { counters.selectionChanges += 1 }
        out.append(.decided(decision))
        // A request or preference change that came in during the round runs now.
        if queuedReason != nil { out += startRoundIfDue(now: now) }
        return out
    }

    // MARK: Announcements and housekeeping

    private mutating func announceLocalGateway(now: Instant) -> [Output] {
        guard let local = settings.localGateway else { return [] }
        announceSequence = max(announceSequence + 1, UInt64(max(0, now.milliseconds)))
        let statement = AnnouncementCodec.GatewayStatement(
            gateway: local.id, proxy: local.proxy, capacity: local.capacity,
            clients: selector.load.clients(of: local.id), sequence: announceSequence)
        let item = SignedItem(kind: AnnouncementCodec.kind(statement), signer: signer, now: now)
        announcements[node] = HeldAnnouncement(origin: node, statement: statement, issuedAt: now, item: item)
        rebuildGateways()
        return [.broadcast(item)]
    }

    private mutating func housekeeping(now: Instant, isMember: (NodeID) -> Bool) {
        selector.expire(now: now)
        // Forget the items of nodes that failed, left or were removed.
        var others = Set(selectionItems.keys).union(announcements.keys)
        others.formUnion(selector.observations.observers)
        var changed = false
        for other in others.sorted() where other != node && !isMember(other) {
            selector.forget(node: other)
            selectionItems[other] = nil
            if announcements.removeValue(forKey: other) != nil { changed = true }
        }
        // Announcements not renewed within their lifetime withdraw their gateway.
        let cutoff = now - settings.announcementLifetime
        for origin in announcements.keys.sorted() where origin != node && announcements[origin]!.issuedAt < cutoff {
            announcements[origin] = nil
            changed = true
        }
        if changed { rebuildGateways() }
    }

    /// The configured gateways, with announced ones added; an announcement of a configured
    /// gateway (same proxy) adds its capacity, when the config gives none, and its client count.
    private mutating func rebuildGateways() {
        var merged: [GatewayID: Gateway] = [:]
        for gateway in settings.gateways { merged[gateway.id] = gateway }
        for origin in announcements.keys.sorted() {
            guard let statement = announcements[origin]?.statement else { continue }
            if var configured = merged[statement.gateway] {
                if case .configured = configured.origin {
                    configured.capacity = configured.capacity ?? statement.capacity
                    configured.announcedClients = statement.clients
                    merged[statement.gateway] = configured
                }
                continue
            }
            merged[statement.gateway] = Gateway(
                id: statement.gateway, proxy: statement.proxy, capacity: statement.capacity,
                announcedClients: statement.clients, origin: .announced(by: origin))
        }
        // This node's own gateway is known from the start, before its first announcement.
        if let local = settings.localGateway, merged[local.id] == nil {
            merged[local.id] = Gateway(id: local.id, proxy: local.proxy, capacity: local.capacity, origin: .announced(by: node))
        }
        selector.updateGateways(merged.keys.sorted().compactMap { merged[$0] })
    }
}
