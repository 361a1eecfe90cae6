import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// The one boot policy (``AgentBoot``) and the one directive interpreter (``AgentHost``) that
/// the daemon, the simulator and the test harnesses share.
@Suite struct AgentHostTests {
    static let t0 = MeshHarness.epoch
    static let me = TestKeys.endpoint(0)

    static func snapshot(incarnation: UInt64, session: UInt64, view: Bool) -> PeerSnapshot {
        var snapshot = PeerSnapshot(incarnation: incarnation, session: session, peers: [
            PeerSnapshot.Peer(id: TestKeys.id(2).hex, name: "node2", endpoint: TestKeys.endpoint(2).description),
            PeerSnapshot.Peer(id: TestKeys.id(3).hex, name: "node3", endpoint: "not an endpoint"),
        ])
        if view {
            snapshot.view = PeerSnapshot.ViewState(
                view: CommittedView(epoch: 4, lineage: Data([1, 2, 3, 4, 5, 6, 7, 8]), members: [TestKeys.id(0), TestKeys.id(2)]),
                lastVote: nil)
        }
        return snapshot
    }

    @Test func firstStartWithoutSeedsFoundsAtIncarnationOne() {
        let boot = AgentBoot(endpoint: Self.me, seeds: [], snapshot: nil, now: Self.t0)
        #expect(boot.incarnation == 1)
        #expect(boot.session == UInt64(Self.t0.milliseconds))
        #expect(boot.joinTargets.isEmpty)
        #expect(boot.foundsCloud)
        #expect(!boot.isRestart)
    }

    @Test func onlySeedBeingItselfFoundsAndIsNoJoinTarget() {
        let boot = AgentBoot(endpoint: Self.me, seeds: [Self.me], snapshot: nil, now: Self.t0)
        #expect(boot.foundsCloud)
        #expect(boot.joinTargets.isEmpty)
    }

    @Test func anotherSeedMeansJoiningNotFounding() {
        let boot = AgentBoot(endpoint: Self.me, seeds: [Self.me, TestKeys.endpoint(1)], snapshot: nil, now: Self.t0)
        #expect(!boot.foundsCloud)
        #expect(boot.joinTargets == [Destination(id: nil, endpoint: TestKeys.endpoint(1))])
    }

    @Test func restartContinuesAboveThePersistedRunEvenWithAClockBehind() {
        // The clock reads earlier than the persisted session (it went backwards).
        let persisted = UInt64(Self.t0.milliseconds) + 60_000
        let boot = AgentBoot(
            endpoint: Self.me, seeds: [TestKeys.endpoint(1)], snapshot: Self.snapshot(incarnation: 7, session: persisted, view: true),
            now: Self.t0)
        #expect(boot.incarnation == 8)
        #expect(boot.session == persisted + 1)
        #expect(boot.isRestart)
        // Seeds first, then the snapshot's peers (an unparsable entry is skipped).
        #expect(boot.joinTargets == [
            Destination(id: nil, endpoint: TestKeys.endpoint(1)), Destination(id: TestKeys.id(2), endpoint: TestKeys.endpoint(2)),
        ])
        #expect(boot.restoredView?.view.epoch == 4)
    }

    @Test func restartedAgentKeepsItsViewInsteadOfFounding() {
        let boot = AgentBoot(endpoint: Self.me, seeds: [], snapshot: Self.snapshot(incarnation: 2, session: 5, view: true), now: Self.t0)
        #expect(boot.foundsCloud)
        let agent = boot.makeAgent(
            settings: AgentSettings(name: "node0", endpoint: Self.me), signer: TestKeys.signer(0), verifier: FakeVerifier(),
            keyring: TestKeys.keyring(count: 4), seed: 1, now: Self.t0)
        #expect(agent.membership.incarnation == 3)
        #expect(agent.session == UInt64(Self.t0.milliseconds))
        #expect(agent.quorumView?.view?.epoch == 4)
        let founder = AgentBoot(endpoint: Self.me, seeds: [], snapshot: nil, now: Self.t0).makeAgent(
            settings: AgentSettings(name: "node0", endpoint: Self.me), signer: TestKeys.signer(0), verifier: FakeVerifier(),
            keyring: TestKeys.keyring(count: 4), seed: 1, now: Self.t0)
        #expect(founder.quorumView?.view?.epoch == 1)
        let joiner = AgentBoot(endpoint: Self.me, seeds: [TestKeys.endpoint(1)], snapshot: nil, now: Self.t0).makeAgent(
            settings: AgentSettings(name: "node0", endpoint: Self.me), signer: TestKeys.signer(0), verifier: FakeVerifier(),
            keyring: TestKeys.keyring(count: 4), seed: 1, now: Self.t0)
        #expect(joiner.quorumView?.view == nil)
    }

    /// Chaos seed 510: a node restarted, was stopped again before it met anyone, and its next
    /// start knew only its seeds, which were down: nobody could reach it any more.
    @Test func aRestartThatMeetsNobodyKeepsItsSnapshotsPeersUntilItMeetsAMember() throws {
        let peers = [
            PeerSnapshot.Peer(id: TestKeys.id(2).hex, name: "node2", endpoint: TestKeys.endpoint(2).description),
            PeerSnapshot.Peer(id: TestKeys.id(3).hex, name: "node3", endpoint: TestKeys.endpoint(3).description),
        ]
        let boot = AgentBoot(
            endpoint: Self.me, seeds: [TestKeys.endpoint(1)], snapshot: PeerSnapshot(incarnation: 2, session: 5, peers: peers), now: Self.t0)
        let keyring = TestKeys.keyring(count: 4)
        var agent = boot.makeAgent(
            settings: AgentSettings(name: "node0", endpoint: Self.me), signer: TestKeys.signer(0), verifier: FakeVerifier(),
            keyring: keyring, seed: 1, now: Self.t0)
        let written = agent.start(now: Self.t0).compactMap { directive -> PeerSnapshot? in
            if case .persist(let snapshot) = directive { snapshot } else { nil }
        }
        #expect(try #require(written.last).peers == peers, "the snapshot written at start keeps the peers")
        _ = agent.onTick(now: Self.t0 + .seconds(20))
        #expect(agent.snapshot.peers == peers, "still nobody met")

        // Node 2 answers: from now on the table is what is persisted.
        var codec = DatagramCodec(
            session: 9, signer: TestKeys.signer(2), verifier: FakeVerifier(), keyring: keyring, clockSkewWindow: nil,
            rateLimit: RateLimiter(ratePerSecond: 100, burst: 100))
        var packet = Overlayd_V1_Packet()
        packet.message = .gossip(.init())
        packet.items = [Claims.alive(TestKeys.signer(2), incarnation: 1, name: "node2", endpoint: TestKeys.endpoint(2), at: Self.t0).wire]
        _ = agent.onDatagram(codec.seal(packet, to: TestKeys.id(0), now: Self.t0 + .seconds(21)), from: TestKeys.endpoint(2), now: Self.t0 + .seconds(21))
        #expect(agent.membership.members[TestKeys.id(2)]?.state == .alive)
        #expect(agent.snapshot.peers.map(\.id) == [TestKeys.id(2).hex])
    }

    /// Records every call, in order.
    struct Recorder: AgentEnvironment {
        var calls: [String] = []
        mutating func transmit(_ bytes: Data, to endpoint: PeerEndpoint) { calls.append("transmit \(bytes.count) \(endpoint)") }
        mutating func persist(_ snapshot: PeerSnapshot) { calls.append("persist \(snapshot.incarnation)") }
        mutating func publish(_ event: AgentEvent) {
            switch event {
            case .memberChanged(let change): calls.append("member \(change.name)")
            case .rejected(let reason): calls.append("rejected \(reason.rawValue)")
            case .viewChanged(let view, _): calls.append("view \(view.epoch)")
            case .quorumChanged(let status): calls.append("quorum \(status.hasQuorum)")
            case .selectionDecided(let decision): calls.append("decided \(decision.round)")
            }
        }
        mutating func probe(_ probe: GatewayProbe) { calls.append("probe \(probe.gateway.id)") }
        mutating func schedule(wakeup: Instant?) { calls.append("schedule \(wakeup.map { String($0.milliseconds) } ?? "none")") }
    }

    @Test func interpreterMapsEveryDirectiveInOrderThenSchedulesOnce() {
        let gateway = Gateway(id: "gw1", proxy: ProxyEndpoint(host: "10.9.0.1", port: 3128))
        let change = MemberChange(id: TestKeys.id(1), name: "node1", from: nil, to: .alive, incarnation: 1)
        let directives: [AgentDirective] = [
            .transmit(Data([1, 2, 3]), to: TestKeys.endpoint(1)), .memberChanged(change),
            .persist(PeerSnapshot(incarnation: 3, session: 1, peers: [])), .rejected(.forgedItem),
            .gateway(.probe(GatewayProbe(round: 2, gateway: gateway))), .transmit(Data([9]), to: TestKeys.endpoint(2)),
        ]
        var recorder = Recorder()
        AgentHost.perform(directives, nextWakeup: Self.t0 + .seconds(1), in: &recorder)
        #expect(recorder.calls == [
            "transmit 3 \(TestKeys.endpoint(1))", "member node1", "persist 3", "rejected forged_item", "probe gw1",
            "transmit 1 \(TestKeys.endpoint(2))", "schedule \(Self.t0.milliseconds + 1000)",
        ])
        var idle = Recorder()
        AgentHost.perform([], nextWakeup: nil, in: &idle)
        #expect(idle.calls == ["schedule none"])
    }

    /// A real agent's first start, through the interpreter: a founder persists its view of one
    /// and arms its timer; nothing else is needed to run it.
    @Test func foundersStartGoesThroughTheInterpreter() {
        var agent = AgentBoot(endpoint: Self.me, seeds: [], snapshot: nil, now: Self.t0).makeAgent(
            settings: AgentSettings(name: "node0", endpoint: Self.me), signer: TestKeys.signer(0), verifier: FakeVerifier(),
            keyring: TestKeys.keyring(count: 4), seed: 1, now: Self.t0)
        var recorder = Recorder()
        let directives = agent.start(now: Self.t0)
        AgentHost.perform(directives, nextWakeup: agent.nextWakeup, in: &recorder)
        #expect(recorder.calls.last?.hasPrefix("schedule ") == true)
        #expect(recorder.calls.last != "schedule none")
        #expect(recorder.calls.count == directives.count + 1)
    }
}
