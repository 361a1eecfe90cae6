import Foundation
import Logging
import NIOCore
import OverlayAPI
import OverlayCore

/// The shell's gateway state, kept in one stored property of ``NodeRuntime``: the prober,
/// the hop source and its last good table, the probes in flight, and the event subscribers.
struct GatewayShellState {
    let options: GatewayRuntimeOptions?
    let prober: GatewayProber?
    var hopCache: HopTableCache
    var hopTask: Task<Void, Never>?
    var probeTasks: [UUID: Task<Void, Never>] = [:]
    var eventListeners: [UUID: AsyncStream<EventRecord>.Continuation] = [:]

    init(options: GatewayRuntimeOptions?, group: any EventLoopGroup) {
        self.options = options
        self.prober = options.map { GatewayProber(settings: $0.probe, group: group) }
        self.hopCache = HopTableCache(initial: options?.settings.hops ?? HopTable())
    }
}

// MARK: Directives, probes, hop source

extension NodeRuntime {
    /// Starts polling the hop source, if one is configured.
    func startGateways() {
        guard let options = gatewayShell.options else { return }
        logger.info("gateway selection on", metadata: [
            "strategy": "\(options.settings.strategy)", "gateways": "\(options.settings.gateways.count) declared",
            "probe": "\(options.probe.url)",
            "announces": "\(options.settings.localGateway.map { "\($0.id) at \($0.proxy)" } ?? "nothing")",
        ])
        guard let reader = options.hopSource else { return }
        let refresh = options.hopRefresh
        gatewayShell.hopTask = Task { [weak self] in
            while !Task.isCancelled {
                let output = await reader.run()
                await self?.applyHops(output, reader: reader)
                try? await Task.sleep(for: refresh)
            }
        }
    }

    /// Stops probes and the hop poller, and ends every event subscription.
    func stopGateways() {
        gatewayShell.hopTask?.cancel()
        gatewayShell.hopTask = nil
        for task in gatewayShell.probeTasks.values { task.cancel() }
        gatewayShell.probeTasks.removeAll()
        for continuation in gatewayShell.eventListeners.values { continuation.finish() }
        gatewayShell.eventListeners.removeAll()
    }

    /// Replaces the gateway preferences (`allow`, `deny`, `max_hops`), as SIGHUP does after
    /// re-reading the config file; a change starts a round (reason `preferences_changed`).
    public func updateGatewayPreferences(_ preferences: GatewayPreferences) {
        guard let current = agent.gateways?.selector.preferences else { return }
        guard current != preferences else {
            logger.info("gateway preferences unchanged")
            return
        }
        logger.notice("gateway preferences changed", metadata: [
            "allow": "\(preferences.allow.map(\.rawValue).sorted().joined(separator: ","))",
            "deny": "\(preferences.deny.map(\.rawValue).sorted().joined(separator: ","))",
            "max_hops": "\(preferences.maxHops.map(String.init) ?? "-")",
        ])
        perform(agent.updateGatewayPreferences(preferences, now: WallClock.now()))
    }

    /// ``AgentEnvironment/probe(_:)``: the HTTP probe through the gateway's proxy, off the
    /// actor; its result comes back through ``probeFinished(_:_:task:)``. Without a prober
    /// (gateway selection off) the core asks for no probe.
    func launchProbe(_ probe: GatewayProbe) {
        guard let prober = gatewayShell.prober else { return }
        let id = UUID()
        gatewayShell.probeTasks[id] = Task { [weak self] in
            let measurement = await prober.probe(through: probe.gateway.proxy)
            await self?.probeFinished(probe, measurement, task: id)
        }
    }

    private func probeFinished(_ probe: GatewayProbe, _ measurement: ProbeMeasurement, task: UUID) {
        guard gatewayShell.probeTasks.removeValue(forKey: task) != nil else { return }
        metrics.gateway.countProbe(gateway: probe.gateway.id.rawValue, result: measurement.failure?.label ?? "ok")
        let metadata: Logger.Metadata = ["gateway": "\(probe.gateway.id)", "proxy": "\(probe.gateway.proxy)"]
        if let failure = measurement.failure {
            logger.warning(
                "probe of gateway \(probe.gateway.id) through proxy \(probe.gateway.proxy) failed: \(failure) (\(measurement.detail ?? "no detail")); it counts as a failed observation",
                metadata: metadata.merging(["failure": "\(failure.label)"]) { $1 })
        } else if let latency = measurement.contentLatency {
            logger.debug("probe", metadata: metadata.merging([
                "content_ms": "\(latency.milliseconds)", "ttfb_ms": "\(measurement.timeToFirstByte?.milliseconds ?? -1)",
                "bytes": "\(measurement.bytes)",
            ]) { $1 })
        }
        let result = ProbeResult(
            round: probe.round, gateway: probe.gateway.id, contentLatency: measurement.contentLatency,
            timeToFirstByte: measurement.timeToFirstByte, failure: measurement.failure, bytes: measurement.bytes)
        perform(agent.onProbeResult(result, now: WallClock.now()))
    }

    /// A decided round: metrics, the log line with its explanation, the event stream.
    func record(_ decision: SelectionDecision) {
        metrics.gateway.selectionRounds.increment()
        metrics.gateway.sharedEstimatesUsed.increment(by: decision.shared.count)
        for candidate in decision.candidates { metrics.gateway.countCandidate(basis: candidate.basis.rawValue) }
        let metadata: Logger.Metadata = [
            "round": "\(decision.round)", "reason": "\(decision.reason.rawValue)",
            "gateway": "\(decision.chosen?.rawValue ?? "none")", "probed": "\(decision.probed.count)",
            "shared": "\(decision.shared.count)",
        ]
        if decision.changed {
            metrics.gateway.selectionChanges.increment()
            logger.notice("gateway selected: \(decision.explanation)", metadata: metadata)
            let event = SelectionEvent(
                from: decision.previous?.rawValue, to: decision.chosen?.rawValue, reason: decision.reason.rawValue,
                explanation: decision.explanation)
            broadcast(.selection(event, atMs: WallClock.now().milliseconds))
        } else {
            logger.info("gateway kept: \(decision.explanation)", metadata: metadata)
        }
    }

    private func applyHops(_ output: Result<String, HopSourceError>, reader: HopSourceReader) {
        let hadError = gatewayShell.hopCache.lastError != nil
        switch reader.apply(output, to: &gatewayShell.hopCache, now: WallClock.now()) {
        case .success(let table):
            agent.updateHops(table)
            if hadError { logger.notice("hop source readable again", metadata: ["entries": "\(table.count)"]) }
        case .failure(let error):
            logger.warning("\(error.description)", metadata: ["failures": "\(gatewayShell.hopCache.consecutiveFailures)"])
        }
    }

    private func broadcast(_ record: EventRecord) {
        for continuation in gatewayShell.eventListeners.values { continuation.yield(record) }
    }

    private func removeEventListener(_ id: UUID) { gatewayShell.eventListeners[id] = nil }
}

// MARK: The local API

extension NodeRuntime: GatewayAPIProvider {
    /// `GET /v1/gateways`: every known gateway with the cloud's estimate from this node.
    public func gateways() async -> [GatewayInfo] {
        guard let gossip = agent.gateways else { return [] }
        let selector = gossip.selector
        let now = WallClock.now()
        return selector.gateways.map { gateway in
            let estimate = selector.estimate(for: gateway.id, now: now)
            let excluded = selector.exclusion(of: gateway)?.description
            let announcer = gossip.announcer(of: gateway.id)
            let origin: String = if case .announced = gateway.origin { "announced" } else { "configured" }
            return GatewayInfo(
                id: gateway.id.rawValue, proxy: gateway.proxy.description, origin: origin, announcedBy: announcer?.hex,
                hops: selector.hops(of: gateway), eligible: excluded == nil, excludedReason: excluded,
                estimateMs: estimate.map { Double($0.contentLatency.milliseconds) },
                ttfbMs: estimate?.timeToFirstByte.map { Double($0.milliseconds) },
                observers: estimate?.observerCount ?? 0, failures: estimate?.failureCount ?? 0,
                ageSeconds: estimate.map { Double($0.age.milliseconds) / 1000 }, clients: selector.clients(of: gateway.id),
                capacity: gateway.capacity, isCurrent: selector.current == gateway.id)
        }
    }

    /// `GET /v1/observations`: the fresh observations held, one per (observer, gateway).
    public func observations() async -> [ObservationInfo] {
        guard let selector = agent.gateways?.selector else { return [] }
        let now = WallClock.now()
        let names = Dictionary(uniqueKeysWithValues: agent.membership.sortedMembers.map { ($0.id, $0.name) })
        return selector.observations.gateways.flatMap { gateway in
            selector.observations.observations(of: gateway, now: now).map { observation in
                ObservationInfo(
                    observer: observation.observer.hex,
                    observerName: observation.observer == localID ? agent.membership.localName : names[observation.observer],
                    gateway: gateway.rawValue, ok: observation.succeeded, failure: observation.failure?.label,
                    contentLatencyMs: observation.contentLatency.map(Self.milliseconds),
                    ttfbMs: observation.timeToFirstByte.map(Self.milliseconds), bytes: observation.bytes,
                    hops: observation.hops, ageSeconds: max(0, Double((now - observation.takenAt).milliseconds) / 1000),
                    sequence: observation.sequence)
            }
        }
    }

    /// `GET /v1/selection`: the gateway in use, the last round and its candidates.
    public func selection() async -> SelectionResponse {
        guard let gossip = agent.gateways else {
            return SelectionResponse(
                version: version, strategy: "off", current: nil, previous: nil, reason: nil, decidedSecondsAgo: nil,
                explanation: "Gateway selection is off on this node.", round: 0, candidates: [], probesSent: 0,
                sharedEstimatesUsed: 0, roundsCompleted: 0, nextRoundInSeconds: nil)
        }
        let selector = gossip.selector
        let now = WallClock.now()
        let decision = selector.lastDecision
        let next = gossip.pendingRound == nil ? gossip.nextRoundAt : nil
        return SelectionResponse(
            version: version, strategy: selector.strategy.rawValue, current: selector.current?.rawValue,
            previous: decision?.previous?.rawValue, reason: decision?.reason.rawValue,
            decidedSecondsAgo: decision.map { max(0, Double((now - $0.decidedAt).milliseconds) / 1000) },
            explanation: decision?.explanation, round: decision?.round ?? 0,
            candidates: decision?.candidates.map { candidate in
                CandidateInfo(
                    gateway: candidate.gateway.rawValue, basis: candidate.basis.rawValue,
                    contentLatencyMs: candidate.contentLatency.map(Self.milliseconds), observers: candidate.observerCount,
                    spreadMs: candidate.spread.map(Self.milliseconds),
                    clients: candidate.clients, score: candidate.score.map(Self.milliseconds), usable: candidate.usable,
                    isPrevious: candidate.isPrevious, chosen: candidate.gateway == decision?.chosen)
            } ?? [],
            probesSent: gossip.counters.probesRequested, sharedEstimatesUsed: gossip.counters.sharedEstimatesUsed,
            roundsCompleted: gossip.counters.rounds,
            nextRoundInSeconds: next.map { max(0, Double(($0 - now).milliseconds) / 1000) })
    }

    /// `POST /v1/selection/refresh`: a round with reason `requested`, now or right after the
    /// pending one.
    public func refreshSelection() async -> RefreshResponse {
        guard let gossip = agent.gateways else {
            return RefreshResponse(
                version: version, accepted: false,
                message: "Gateway selection is off on this node; add a [gateways] table to its config file.")
        }
        let pending = gossip.pendingRound != nil
        if gossip.selector.gateways.isEmpty, gossip.selector.current == nil {
            return RefreshResponse(
                version: version, accepted: false,
                message: "This node knows no gateway yet (none declared under [gateways], none announced), so there is nothing to select.")
        }
        logger.info("reselection requested through the API")
        perform(agent.requestReselection(now: WallClock.now()))
        return RefreshResponse(
            version: version, accepted: true,
            message: pending
                ? "A selection round is under way; another starts as soon as it ends. GET /v1/selection shows the outcome."
                : "A selection round started; GET /v1/selection shows the outcome.")
    }

    /// `GET /v1/events`: member, selection, view and quorum events from now on.
    public func events() async -> AsyncStream<EventRecord> {
        let (stream, continuation) = AsyncStream<EventRecord>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        gatewayShell.eventListeners[id] = continuation
        let members = memberChanges()
        let views = viewUpdates()
        let forwardMembers = Task {
            for await change in members {
                continuation.yield(.member(
                    MemberEvent(id: change.id.hex, name: change.name, from: change.from?.rawValue, to: change.to?.rawValue, incarnation: change.incarnation),
                    atMs: WallClock.now().milliseconds))
            }
        }
        let forwardViews = Task {
            for await update in views {
                switch update {
                case .view(let view):
                    continuation.yield(.view(ViewEvent(epoch: view.epoch, members: view.members.map(\.hex)), atMs: WallClock.now().milliseconds))
                case .quorum(let status):
                    continuation.yield(.quorum(
                        QuorumEvent(hasQuorum: status.hasQuorum, reachable: status.reachable, viewSize: status.viewSize),
                        atMs: WallClock.now().milliseconds))
                }
            }
        }
        continuation.onTermination = { [weak self] _ in
            forwardMembers.cancel()
            forwardViews.cancel()
            Task { await self?.removeEventListener(id) }
        }
        return stream
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
