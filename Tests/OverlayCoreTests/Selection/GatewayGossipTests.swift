import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// The gateway gossip state machine: wire codecs, the item rules (observer, gateway node,
/// selection origin), freshness, replays, non-members, push-pull, and the timing of rounds.
@Suite struct GatewayGossipTests {
    static let t0 = Instant(milliseconds: 1_700_000_000_000)
    static let gw1 = Gateway(id: "gw1", proxy: ProxyEndpoint(host: "10.0.0.1", port: 3128))
    static let gw2 = Gateway(id: "gw2", proxy: ProxyEndpoint(host: "10.0.0.2", port: 3128))
    static let gw3 = Gateway(id: "gw3", proxy: ProxyEndpoint(host: "10.0.0.3", port: 3128))

    static func settings(strategy: GatewaySelector.Strategy = .collaborative) -> GatewayGossipSettings {
        var settings = GatewayGossipSettings.fast
        settings.strategy = strategy
        settings.gateways = [gw1, gw2, gw3]
        return settings
    }

    static func gossip(node: Int = 0, settings: GatewayGossipSettings = settings(), seed: UInt64 = 7) -> GatewayGossip {
        GatewayGossip(signer: TestKeys.signer(node), settings: settings, seed: seed, now: t0)
    }

    static func observationItem(
        by node: Int, of gateway: GatewayID, ms: Int64?, at time: Instant, sequence: UInt64, failure: ProbeFailure? = nil
    ) -> SignedItem {
        let observation = Observation(
            observer: TestKeys.id(node), gateway: gateway, contentLatency: ms.map { .milliseconds($0) },
            failure: ms == nil ? (failure ?? .timeout) : nil, bytes: 4096, takenAt: time, sequence: sequence)
        return SignedItem(kind: ObservationCodec.kind(observation), signer: TestKeys.signer(node), now: time)
    }

    static func selectionItem(by node: Int, uses gateway: GatewayID?, sequence: UInt64, at time: Instant) -> SignedItem {
        SignedItem(
            kind: AnnouncementCodec.kind(SelectionAnnouncement(node: TestKeys.id(node), gateway: gateway, sequence: sequence, announcedAt: time)),
            signer: TestKeys.signer(node), now: time)
    }

    static func announcementItem(by node: Int, gateway: GatewayID, proxy: ProxyEndpoint, sequence: UInt64, at time: Instant) -> SignedItem {
        let statement = AnnouncementCodec.GatewayStatement(gateway: gateway, proxy: proxy, capacity: 10, clients: 2, sequence: sequence)
        return SignedItem(kind: AnnouncementCodec.kind(statement), signer: TestKeys.signer(node), now: time)
    }

    /// Ticks until `until`, answering every probe from `latencies` (missing: timeout) at once.
    static func run(
        _ gossip: inout GatewayGossip, from start: Instant, until end: Instant, latencies: [GatewayID: Int64],
        cloudSize: Int = 5
    ) -> (broadcasts: [SignedItem], decisions: [SelectionDecision], probes: Int) {
        var broadcasts: [SignedItem] = []
        var decisions: [SelectionDecision] = []
        var probes = 0
        var now = start
        func absorb(_ outputs: [GatewayGossip.Output], _ gossip: inout GatewayGossip) {
            var queue = outputs
            while !queue.isEmpty {
                let output = queue.removeFirst()
                switch output {
                case .broadcast(let item): broadcasts.append(item)
                case .decided(let decision): decisions.append(decision)
                case .probe(let probe):
                    probes += 1
                    let ms = latencies[probe.gateway.id]
                    queue += gossip.onProbeResult(
                        ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: ms.map { .milliseconds($0) },
                                    failure: ms == nil ? .timeout : nil, bytes: 4096), now: now)
                }
            }
        }
        while now <= end {
            absorb(gossip.onTick(now: now, cloudSize: cloudSize) { _ in true }, &gossip)
            guard let next = gossip.nextDeadline, next <= end else { break }
            now = max(now + .milliseconds(1), next)
        }
        return (broadcasts, decisions, probes)
    }

    // MARK: Codecs

    @Test func observationRoundTripsThroughTheWire() throws {
        let success = Observation(
            observer: TestKeys.id(1), gateway: "10.0.0.1:3128", contentLatency: .microseconds(12_345),
            timeToFirstByte: .microseconds(6_789), bytes: 4096, hops: 3, takenAt: Self.t0, sequence: 42)
        let decoded = try ObservationCodec.decode(ObservationCodec.encode(success), observer: TestKeys.id(1)).get()
        #expect(decoded == success)
        let failure = Observation.failure(.httpStatus(502), observer: TestKeys.id(1), gateway: "gw", takenAt: Self.t0, sequence: 43)
        let message = ObservationCodec.encode(failure)
        #expect(message.failure == "http_status:502")
        #expect(message.contentLatencyUs == 0)
        #expect(try ObservationCodec.decode(message, observer: TestKeys.id(1)).get() == failure)
    }

    @Test func unknownFailureLabelStillCountsAsAFailure() throws {
        var message = ObservationCodec.encode(Observation.failure(.timeout, observer: TestKeys.id(1), gateway: "gw", takenAt: Self.t0, sequence: 1))
        message.failure = "tls_handshake"
        let decoded = try ObservationCodec.decode(message, observer: TestKeys.id(1)).get()
        #expect(decoded.failure == .other("tls_handshake"))
        #expect(!decoded.succeeded)
        #expect(ObservationCodec.encode(decoded).failure == "tls_handshake")
    }

    @Test func malformedObservationsAreRefusedWithOneSentence() {
        let good = ObservationCodec.encode(.success(observer: TestKeys.id(1), gateway: "gw", contentLatency: .milliseconds(5), takenAt: Self.t0, sequence: 1))
        var empty = good
        empty.gateway = ""
        var long = good
        long.gateway = String(repeating: "g", count: 200)
        var control = good
        control.gateway = "gw\u{7}"
        var noSequence = good
        noSequence.sequence = 0
        var noTime = good
        noTime.takenAtMs = 0
        var nothing = good
        nothing.contentLatencyUs = 0
        for message in [empty, long, control, noSequence, noTime, nothing] {
            guard case .failure(let error) = ObservationCodec.decode(message, observer: TestKeys.id(1)) else {
                Issue.record("accepted \(message)")
                continue
            }
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }

    @Test func announcementsRoundTripAndRefuseBadProxies() throws {
        let statement = AnnouncementCodec.GatewayStatement(
            gateway: "gw-placa", proxy: ProxyEndpoint(host: "fd00::7", port: 8888), capacity: nil, clients: 4, sequence: 9)
        guard case .gateway(let message) = AnnouncementCodec.kind(statement) else { Issue.record("wrong kind"); return }
        #expect(try AnnouncementCodec.decode(message).get() == statement)
        var noPort = message
        noPort.proxy.port = 0
        #expect((try? AnnouncementCodec.decode(noPort).get()) == nil)
        var noHost = message
        noHost.clearProxy()
        #expect((try? AnnouncementCodec.decode(noHost).get()) == nil)

        let selection = SelectionAnnouncement(node: TestKeys.id(2), gateway: nil, sequence: 5, announcedAt: Self.t0)
        guard case .selection(let wire) = AnnouncementCodec.kind(selection) else { Issue.record("wrong kind"); return }
        #expect(wire.gateway.isEmpty)
        #expect(try AnnouncementCodec.decode(wire, node: TestKeys.id(2), issuedAt: Self.t0).get() == selection)
    }

    // MARK: Rounds

    @Test func firstRoundWaitsForTheStartDelayThenProbesAndAnnounces() {
        var gossip = Self.gossip()
        #expect(gossip.firstRoundAt >= Self.t0 + GatewayGossipSettings.fast.startDelay)
        #expect(gossip.firstRoundAt <= Self.t0 + GatewayGossipSettings.fast.startDelay + GatewayGossipSettings.fast.startJitter)
        let early = gossip.onTick(now: Self.t0 + .milliseconds(100), cloudSize: 1) { _ in true }
        #expect(early.isEmpty)

        let result = Self.run(&gossip, from: Self.t0, until: gossip.firstRoundAt, latencies: ["gw1": 20, "gw2": 40, "gw3": 400], cloudSize: 1)
        let decision = try? #require(result.decisions.first)
        #expect(decision?.reason == .start)
        #expect(result.probes == 2, "alone in the cloud, the node probes both drawn candidates")
        #expect(decision?.chosen != nil)
        // Every probe result is a signed observation, and the choice is announced.
        let kinds = result.broadcasts.map { item -> String in
            switch item.item.kind {
            case .observation?: "observation"
            case .selection?: "selection"
            default: "other"
            }
        }
        #expect(kinds.filter { $0 == "observation" }.count == 2)
        #expect(kinds.last == "selection")
        #expect(result.broadcasts.allSatisfy { $0.origin == TestKeys.id(0) && $0.verify(with: FakeVerifier()) })
    }

    @Test func roundIsDecidedAtItsDeadlineWhenAProbeNeverReports() {
        var settings = Self.settings(strategy: .bruteForce)
        settings.startJitter = .zero
        var gossip = Self.gossip(settings: settings)
        let start = gossip.firstRoundAt
        let outputs = gossip.onTick(now: start, cloudSize: 1) { _ in true }
        let probes = outputs.compactMap { if case .probe(let probe) = $0 { probe } else { nil } }
        #expect(probes.count == 3)
        // Only one result comes back.
        _ = gossip.onProbeResult(ProbeResult(round: probes[0].round, gateway: probes[0].gateway.id, contentLatency: .milliseconds(30)), now: start)
        #expect(gossip.pendingRound != nil)
        let deadline = try! #require(gossip.roundDeadline)
        #expect(deadline == start + settings.roundDeadline(probes: 3))
        #expect(gossip.onTick(now: deadline - .milliseconds(1), cloudSize: 1) { _ in true }.allSatisfy { if case .decided = $0 { false } else { true } })
        let late = gossip.onTick(now: deadline, cloudSize: 1) { _ in true }
        let decision = late.compactMap { if case .decided(let decision) = $0 { decision } else { nil } }.first
        #expect(decision?.chosen == probes[0].gateway.id)
        // A result that arrives after its round still becomes an observation.
        let after = gossip.onProbeResult(ProbeResult(round: probes[1].round, gateway: probes[1].gateway.id, contentLatency: .milliseconds(10)), now: deadline)
        #expect(after.contains { if case .broadcast = $0 { true } else { false } })
        #expect(gossip.selector.observations.latest(of: probes[1].gateway.id, by: TestKeys.id(0))?.contentLatency == .milliseconds(10))
    }

    @Test func sharedObservationsSpareTheProbe() {
        var gossip = Self.gossip()
        let now = Self.t0 + .milliseconds(100)
        for observer in 1...3 {
            for (gateway, ms) in [("gw1", Int64(20)), ("gw2", 40), ("gw3", 400)] {
                let (outcome, _) = gossip.receive(
                    Self.observationItem(by: observer, of: GatewayID(gateway), ms: ms, at: now, sequence: 1), isMember: true, now: now)
                #expect(outcome == .accepted)
            }
        }
        let result = Self.run(&gossip, from: now, until: gossip.firstRoundAt, latencies: [:])
        #expect(result.probes == 0)
        let decision = result.decisions.first
        #expect(decision?.shared.count == decision?.candidates.count)
        #expect(decision?.chosen != "gw3" || decision?.candidates.count == 1)
    }

    @Test func requestedRoundStartsAtOnceAndQueuesBehindAPendingOne() {
        var settings = Self.settings(strategy: .rimo)
        settings.startDelay = .seconds(100)
        var gossip = Self.gossip(settings: settings)
        let outputs = gossip.requestReselection(now: Self.t0)
        let probes = outputs.compactMap { if case .probe(let probe) = $0 { probe } else { nil } }
        #expect(gossip.pendingRound?.reason == .requested)
        // A second request while the round waits for probes runs right after it.
        #expect(gossip.requestReselection(now: Self.t0).isEmpty)
        var decisions: [SelectionDecision] = []
        var newProbes = 0
        for probe in probes {
            for output in gossip.onProbeResult(ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: .milliseconds(30)), now: Self.t0) {
                if case .decided(let decision) = output { decisions.append(decision) }
                if case .probe = output { newProbes += 1 }
            }
        }
        #expect(decisions.count == 1)
        #expect(gossip.pendingRound?.reason == .requested)
        #expect(newProbes > 0)
    }

    @Test func preferenceChangeStartsARound() {
        var gossip = Self.gossip()
        _ = Self.run(&gossip, from: Self.t0, until: gossip.firstRoundAt, latencies: ["gw1": 20, "gw2": 20, "gw3": 20])
        let current = try! #require(gossip.selector.current)
        let outputs = gossip.updatePreferences(GatewayPreferences(deny: [current]), now: gossip.firstRoundAt + .milliseconds(10))
        #expect(gossip.pendingRound?.reason == .preferencesChanged || outputs.contains { if case .decided(let d) = $0 { d.reason == .preferencesChanged } else { false } })
    }

    // MARK: Item rules

    @Test func observationsFromNonMembersStaleOrReplayedAreDroppedAndNotRelayed() {
        var gossip = Self.gossip()
        let now = Self.t0 + .seconds(10)
        let fresh = Self.observationItem(by: 1, of: "gw1", ms: 20, at: now, sequence: 5)
        #expect(gossip.receive(fresh, isMember: false, now: now).0 == .nonMember)
        #expect(gossip.receive(fresh, isMember: true, now: now).0 == .accepted)
        // The same observer and gateway with an equal or lower sequence: a replay.
        let replay = Self.observationItem(by: 1, of: "gw1", ms: 900, at: now, sequence: 5)
        #expect(gossip.receive(replay, isMember: true, now: now).0 == .duplicate)
        let older = Self.observationItem(by: 1, of: "gw1", ms: 900, at: now, sequence: 4)
        #expect(gossip.receive(older, isMember: true, now: now).0 == .duplicate)
        #expect(gossip.selector.observations.latest(of: "gw1", by: TestKeys.id(1))?.contentLatency == .milliseconds(20))
        let stale = Self.observationItem(by: 2, of: "gw1", ms: 20, at: now - .seconds(6), sequence: 1)
        #expect(gossip.receive(stale, isMember: true, now: now).0 == .stale)
        let future = Self.observationItem(by: 2, of: "gw1", ms: 20, at: now + .seconds(120), sequence: 2)
        #expect(gossip.receive(future, isMember: true, now: now).0 == .fromFuture)
        #expect(gossip.counters.items[.accepted] == 1)
        #expect(gossip.counters.items[.duplicate] == 2)
    }

    @Test func anObservationIsOnlyEverAboutItsOrigin() {
        // The observer is the signer: nothing in the message can name another node.
        var gossip = Self.gossip()
        let now = Self.t0 + .seconds(1)
        let item = Self.observationItem(by: 3, of: "gw2", ms: 50, at: now, sequence: 1)
        _ = gossip.receive(item, isMember: true, now: now)
        #expect(gossip.selector.observations.latest(of: "gw2", by: TestKeys.id(3)) != nil)
        #expect(gossip.selector.observations.all.count == 1)
    }

    @Test func gatewayAnnouncementIsOnlyValidFromTheGatewaysNode() {
        var gossip = Self.gossip()
        let now = Self.t0 + .seconds(1)
        let proxy = ProxyEndpoint(host: "10.0.0.9", port: 8888)
        #expect(gossip.receive(Self.announcementItem(by: 4, gateway: "gw-placa", proxy: proxy, sequence: 1, at: now), isMember: true, now: now).0 == .accepted)
        #expect(gossip.selector.gateways.contains { $0.id == "gw-placa" && $0.origin == .announced(by: TestKeys.id(4)) })
        // Another node cannot take the name over.
        #expect(gossip.receive(Self.announcementItem(by: 2, gateway: "gw-placa", proxy: ProxyEndpoint(host: "10.6.6.6", port: 8888), sequence: 9, at: now), isMember: true, now: now).0 == .conflict)
        // Nor redirect a configured gateway to another proxy.
        #expect(gossip.receive(Self.announcementItem(by: 2, gateway: "gw1", proxy: ProxyEndpoint(host: "10.6.6.6", port: 3128), sequence: 1, at: now), isMember: true, now: now).0 == .conflict)
        // The configured gateway's own node adds its capacity and client count.
        #expect(gossip.receive(Self.announcementItem(by: 1, gateway: "gw1", proxy: Self.gw1.proxy, sequence: 1, at: now), isMember: true, now: now).0 == .accepted)
        #expect(gossip.selector.gateways.first { $0.id == "gw1" }?.capacity == 10)
        #expect(gossip.announcer(of: "gw-placa") == TestKeys.id(4))
        // A replayed announcement is a duplicate.
        #expect(gossip.receive(Self.announcementItem(by: 4, gateway: "gw-placa", proxy: proxy, sequence: 1, at: now), isMember: true, now: now).0 == .duplicate)
    }

    @Test func announcedGatewayIsWithdrawnWhenItsNodeLeavesOrStopsAnnouncing() {
        var gossip = Self.gossip()
        let now = Self.t0 + .seconds(1)
        _ = gossip.receive(Self.announcementItem(by: 4, gateway: "gw-a", proxy: ProxyEndpoint(host: "10.0.0.10", port: 8888), sequence: 1, at: now), isMember: true, now: now)
        _ = gossip.receive(Self.announcementItem(by: 5, gateway: "gw-b", proxy: ProxyEndpoint(host: "10.0.0.11", port: 8888), sequence: 1, at: now), isMember: true, now: now)
        #expect(gossip.selector.gateways.count == 5)
        // Node 4 failed: its gateway goes at the next housekeeping.
        _ = gossip.onTick(now: now + .seconds(1), cloudSize: 4) { $0 != TestKeys.id(4) }
        #expect(!gossip.selector.gateways.contains { $0.id == "gw-a" })
        // Node 5 never renews: its announcement expires after its lifetime.
        let later = now + GatewayGossipSettings.fast.announcementLifetime + .seconds(1)
        _ = gossip.onTick(now: later, cloudSize: 4) { $0 != TestKeys.id(4) }
        #expect(!gossip.selector.gateways.contains { $0.id == "gw-b" })
        #expect(gossip.selector.gateways.count == 3)
    }

    @Test func localGatewayIsAnnouncedAtStartAndPeriodically() {
        var settings = Self.settings()
        settings.localGateway = LocalGateway(id: "gw-home", proxy: ProxyEndpoint(host: "10.0.0.20", port: 8888), capacity: 12)
        var gossip = Self.gossip(settings: settings)
        #expect(gossip.selector.gateways.contains { $0.id == "gw-home" })
        let first = gossip.onTick(now: Self.t0, cloudSize: 1) { _ in true }
        let announcements = first.compactMap { output -> AnnouncementCodec.GatewayStatement? in
            guard case .broadcast(let item) = output, case .gateway(let message)? = item.item.kind else { return nil }
            return try? AnnouncementCodec.decode(message).get()
        }
        #expect(announcements.map(\.gateway) == ["gw-home"])
        #expect(announcements.first?.capacity == 12)
        let again = gossip.onTick(now: Self.t0 + settings.announceInterval, cloudSize: 1) { _ in true }
        #expect(again.contains { if case .broadcast(let item) = $0, case .gateway? = item.item.kind { true } else { false } })
    }

    @Test func selectionAnnouncementsCountLoadAndReplaysDoNot() {
        var gossip = Self.gossip()
        let now = Self.t0
        #expect(gossip.receive(Self.selectionItem(by: 1, uses: "gw1", sequence: 10, at: now), isMember: true, now: now).0 == .accepted)
        #expect(gossip.receive(Self.selectionItem(by: 2, uses: "gw1", sequence: 10, at: now), isMember: true, now: now).0 == .accepted)
        #expect(gossip.selector.clients(of: "gw1") == 2)
        #expect(gossip.receive(Self.selectionItem(by: 1, uses: "gw2", sequence: 11, at: now), isMember: true, now: now).0 == .accepted)
        #expect(gossip.receive(Self.selectionItem(by: 1, uses: "gw1", sequence: 10, at: now), isMember: true, now: now).0 == .duplicate)
        #expect(gossip.selector.clients(of: "gw1") == 1)
        #expect(gossip.selector.clients(of: "gw2") == 1)
        #expect(gossip.receive(Self.selectionItem(by: 3, uses: "gw3", sequence: 1, at: now), isMember: false, now: now).0 == .nonMember)
        #expect(gossip.selector.clients(of: "gw3") == 0)
    }

    // MARK: Push-pull and memory

    @Test func pushPullCarriesSelectionsAnnouncementsAndFreshObservationsOnly() {
        var settings = Self.settings()
        settings.maxSyncItems = 6
        var gossip = Self.gossip(settings: settings)
        let now = Self.t0 + .seconds(1)
        _ = gossip.receive(Self.selectionItem(by: 1, uses: "gw1", sequence: 1, at: now), isMember: true, now: now)
        _ = gossip.receive(Self.announcementItem(by: 4, gateway: "gw-a", proxy: ProxyEndpoint(host: "10.0.0.10", port: 8888), sequence: 1, at: now), isMember: true, now: now)
        for observer in 1...3 {
            _ = gossip.receive(Self.observationItem(by: observer, of: "gw2", ms: 30, at: now + .milliseconds(Int64(observer)), sequence: 1), isMember: true, now: now)
        }
        let sync = gossip.syncItems
        #expect(sync.count == 5)
        #expect(sync.first.map { if case .selection? = $0.item.kind { true } else { false } } == true)
        // Newest observation first.
        #expect(sync[2].origin == TestKeys.id(3))
        // Stale observations leave the push-pull set at housekeeping.
        _ = gossip.onTick(now: now + .seconds(6), cloudSize: 4) { _ in true }
        #expect(gossip.heldObservationItems == 0)
        #expect(gossip.syncItems.count == 2)
        // The cap holds.
        for observer in 1...8 {
            _ = gossip.receive(Self.observationItem(by: observer, of: "gw3", ms: 30, at: now + .seconds(6), sequence: 2), isMember: true, now: now + .seconds(6))
        }
        #expect(gossip.syncItems.count == 6)
    }

    @Test func memoryStaysBoundedUnderAFloodOfInventedGateways() {
        var settings = Self.settings()
        settings.selector.maxGatewaysPerObserver = 8
        settings.selector.observationCapacity = 32
        var gossip = Self.gossip(settings: settings)
        let now = Self.t0 + .seconds(1)
        for index in 0..<500 {
            _ = gossip.receive(Self.observationItem(by: 1 + index % 3, of: GatewayID("fake-\(index)"), ms: 10, at: now, sequence: UInt64(index + 1)), isMember: true, now: now)
        }
        _ = gossip.onTick(now: now + .milliseconds(300), cloudSize: 4) { _ in true }
        #expect(gossip.selector.observations.count <= 24)
        #expect(gossip.heldObservationItems <= 24)
    }

    @Test func membersThatLeaveAreForgotten() {
        var gossip = Self.gossip()
        let now = Self.t0 + .seconds(1)
        _ = gossip.receive(Self.selectionItem(by: 2, uses: "gw1", sequence: 1, at: now), isMember: true, now: now)
        _ = gossip.receive(Self.observationItem(by: 2, of: "gw1", ms: 10, at: now, sequence: 1), isMember: true, now: now)
        _ = gossip.onTick(now: now + .seconds(1), cloudSize: 1) { $0 != TestKeys.id(2) }
        #expect(gossip.selector.clients(of: "gw1") == 0)
        #expect(gossip.selector.observations.count == 0)
        #expect(gossip.syncItems.isEmpty)
    }

    // MARK: Reselection on failure

    @Test func aSharedFailureOfTheCurrentGatewayStartsARoundAtOnce() {
        var gossip = Self.gossip()
        let result = Self.run(&gossip, from: Self.t0, until: gossip.firstRoundAt, latencies: ["gw1": 20, "gw2": 25, "gw3": 30], cloudSize: 1)
        #expect(result.decisions.count == 1)
        let current = try! #require(gossip.selector.current)
        let now = gossip.firstRoundAt + .milliseconds(500)
        // One failure against this node's own success: the median jumps to the failure
        // penalty, the current gateway counts as degraded, and a round starts at once.
        let (outcome, outputs) = gossip.receive(Self.observationItem(by: 3, of: current, ms: nil, at: now, sequence: 1), isMember: true, now: now)
        #expect(outcome == .accepted)
        let started = outputs.contains { output in
            switch output {
            case .probe, .decided: true
            default: false
            }
        }
        #expect(started)
        let reason = gossip.pendingRound?.reason ?? gossip.selector.lastDecision?.reason
        #expect(reason == .currentDegraded)
    }
}
