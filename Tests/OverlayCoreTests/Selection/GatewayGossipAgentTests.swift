import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// Gateway gossip inside the agent: signed observations and selections travel between real
/// agents (piggyback and push-pull), and forged, replayed, non-member and malformed items are
/// refused before they reach the selector.
@Suite struct GatewayGossipAgentTests {
    static let latencies: [GatewayID: Int64] = ["gw1": 20, "gw2": 45, "gw3": 400]

    static func settings() -> GatewayGossipSettings {
        var settings = GatewayGossipSettings.fast
        settings.gateways = ["gw1", "gw2", "gw3"].enumerated().map { index, name in
            Gateway(id: GatewayID(name), proxy: ProxyEndpoint(host: "10.9.0.\(index + 1)", port: 8888))
        }
        return settings
    }

    /// A fixture whose agent (node 0) runs gateway selection.
    static func fixture() -> AgentFixture {
        var fixture = AgentFixture(admitted: 5)
        fixture.agent = Agent(
            settings: AgentSettings(name: "node0", endpoint: TestKeys.endpoint(0)), signer: TestKeys.signer(0),
            verifier: FakeVerifier(), keyring: fixture.keyring, session: 1, incarnation: 1, joinTargets: [], seed: 3,
            now: AgentFixture.t0, gateways: settings())
        return fixture
    }

    static func observation(by node: Int, of gateway: GatewayID, ms: Int64, sequence: UInt64, at time: Instant = AgentFixture.t0) -> SignedItem {
        SignedItem(
            kind: ObservationCodec.kind(.success(
                observer: TestKeys.id(node), gateway: gateway, contentLatency: .milliseconds(ms), bytes: 4096,
                takenAt: time, sequence: sequence)),
            signer: TestKeys.signer(node), now: time)
    }

    @Test func observationFromAMemberIsStoredAndRelayed() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        let queued = fixture.agent.queuedItems
        let bytes = fixture.datagram(from: 1, items: [Self.observation(by: 1, of: "gw1", ms: 25, sequence: 10)])
        let directives = fixture.deliver(bytes)
        #expect(directives.compactMap(\.rejection).isEmpty)
        #expect(fixture.agent.gateways?.selector.observations.latest(of: "gw1", by: TestKeys.id(1))?.contentLatency == .milliseconds(25))
        #expect(fixture.agent.queuedItems == queued + 1)
        #expect(fixture.agent.gateways?.counters.items[.accepted] == 1)
    }

    @Test func forgedObservationIsRejectedBeforeTheSelector() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        let genuine = Self.observation(by: 1, of: "gw1", ms: 25, sequence: 10)
        // Node 2 relays node 1's observation with a better latency: the bytes no longer match
        // node 1's signature.
        var item = genuine.item
        item.observation.contentLatencyUs = 1_000
        var wire = genuine.wire
        wire.item = try! item.serializedBytes()
        let forged = SignedItem(wire: wire)!
        let directives = fixture.deliver(fixture.datagram(from: 2, items: [forged]))
        #expect(directives.compactMap(\.rejection) == [.forgedItem])
        #expect(fixture.agent.gateways?.selector.observations.count == 0)
    }

    @Test func replayedObservationIsDroppedAndNotRelayedAgain() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        fixture.deliver(fixture.datagram(from: 1, items: [Self.observation(by: 1, of: "gw1", ms: 25, sequence: 10)]))
        let queued = fixture.agent.queuedItems
        // A different item (other bytes) with the same sequence: a replay of the slot.
        fixture.deliver(fixture.datagram(from: 2, items: [Self.observation(by: 1, of: "gw1", ms: 999, sequence: 10, at: AgentFixture.t0 + .milliseconds(5))]))
        #expect(fixture.agent.gateways?.selector.observations.latest(of: "gw1", by: TestKeys.id(1))?.contentLatency == .milliseconds(25))
        #expect(fixture.agent.queuedItems == queued)
        #expect(fixture.agent.gateways?.counters.items[.duplicate] == 1)
    }

    @Test func observationFromAnAdmittedNonMemberIsDropped() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        // Node 3 is in the keyring but not a member this node knows.
        fixture.deliver(fixture.datagram(from: 1, items: [Self.observation(by: 3, of: "gw1", ms: 25, sequence: 10)]))
        #expect(fixture.agent.gateways?.selector.observations.count == 0)
        #expect(fixture.agent.gateways?.counters.items[.nonMember] == 1)
    }

    @Test func observationFromOutsideTheKeyringIsRefused() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        let directives = fixture.deliver(fixture.datagram(from: 1, items: [Self.observation(by: AgentFixture.outsider, of: "gw1", ms: 25, sequence: 10)]))
        #expect(directives.compactMap(\.rejection) == [.unknownOrigin])
    }

    @Test func malformedObservationCountsAsInvalidItem() {
        var fixture = Self.fixture()
        fixture.learnOneAndTwo()
        var message = ObservationCodec.encode(.success(observer: TestKeys.id(1), gateway: "gw1", contentLatency: .milliseconds(5), takenAt: AgentFixture.t0, sequence: 1))
        message.gateway = ""
        let item = SignedItem(kind: .observation(message), signer: TestKeys.signer(1), now: AgentFixture.t0)
        let directives = fixture.deliver(fixture.datagram(from: 1, items: [item]))
        #expect(directives.compactMap(\.rejection) == [.invalidItem])
    }

    @Test func agentWithoutGatewaySettingsOnlyRelays() {
        var fixture = AgentFixture(admitted: 5)
        fixture.learnOneAndTwo()
        let queued = fixture.agent.queuedItems
        fixture.deliver(fixture.datagram(from: 1, items: [Self.observation(by: 1, of: "gw1", ms: 25, sequence: 10)]))
        #expect(fixture.agent.gateways == nil)
        #expect(fixture.agent.queuedItems == queued + 1)
    }

    /// Five agents on a virtual network, probing from a latency table: the cloud settles on the
    /// good gateways, most estimates come from shared data, and the probe count stays far
    /// below brute force's.
    @Test func fiveAgentsShareMeasurementsAndAvoidTheSlowGateway() {
        var cloud = GatewayCloud(count: 5, settings: Self.settings(), latencies: Self.latencies)
        cloud.run(for: .seconds(30))
        for index in 0..<5 {
            let current = cloud.agents[index].gateways?.selector.current
            #expect(current != nil && current != "gw3", "node \(index) uses \(String(describing: current))")
        }
        let rounds = cloud.agents.map { $0.gateways?.counters.rounds ?? 0 }.reduce(0, +)
        let probes = cloud.probes
        let shared = cloud.agents.map { $0.gateways?.counters.sharedEstimatesUsed ?? 0 }.reduce(0, +)
        let judged = cloud.agents.map { $0.gateways?.counters.candidatesJudged ?? 0 }.reduce(0, +)
        #expect(rounds >= 5 * 5)
        #expect(Double(probes) < 0.5 * Double(rounds * 3), "\(probes) probes in \(rounds) rounds")
        #expect(Double(shared) > 0.5 * Double(judged), "\(shared) of \(judged) estimates shared")
        // Everybody learned everybody's selection (the load table).
        for agent in cloud.agents {
            let load = agent.gateways!.selector.load
            #expect(load.totalClients == 5)
        }
    }
}

/// Agents on a lossless virtual network with a fixed latency, whose probes are answered from a
/// latency table (a missing gateway times out).
struct GatewayCloud {
    var agents: [Agent] = []
    var now = AgentFixture.t0
    var probes = 0
    let latencies: [GatewayID: Int64]
    private var inFlight: [(at: Instant, to: Int, bytes: Data, from: PeerEndpoint)] = []
    private var pendingProbes: [(at: Instant, node: Int, probe: GatewayProbe)] = []
    /// The node whose directives are being performed.
    private var acting = 0

    init(count: Int, settings: GatewayGossipSettings, latencies: [GatewayID: Int64]) {
        self.latencies = latencies
        let keyring = TestKeys.keyring(count: count)
        for index in 0..<count {
            let seeds = index == 0 ? [] : [TestKeys.endpoint(0)]
            let boot = AgentBoot(endpoint: TestKeys.endpoint(index), seeds: seeds, snapshot: nil, now: now)
            agents.append(boot.makeAgent(
                settings: AgentSettings(name: "node\(index)", endpoint: TestKeys.endpoint(index), membership: .fast),
                signer: TestKeys.signer(index), verifier: FakeVerifier(), keyring: keyring, seed: 100 + UInt64(index),
                now: now, gateways: settings))
        }
        for index in agents.indices { handle(agents[index].start(now: now), from: index) }
    }

    mutating func run(for duration: Duration) {
        let end = now + duration
        while true {
            var next = inFlight.map(\.at).min()
            for probe in pendingProbes { next = min(next ?? probe.at, probe.at) }
            for agent in agents { if let wake = agent.nextWakeup { next = min(next ?? wake, wake) } }
            guard let due = next, due <= end else { now = end; return }
            now = max(now, due)
            let deliveries = inFlight.filter { $0.at <= now }
            inFlight.removeAll { $0.at <= now }
            for delivery in deliveries {
                handle(agents[delivery.to].onDatagram(delivery.bytes, from: delivery.from, now: now), from: delivery.to)
            }
            let answered = pendingProbes.filter { $0.at <= now }
            pendingProbes.removeAll { $0.at <= now }
            for entry in answered {
                let ms = latencies[entry.probe.gateway.id]
                let result = ProbeResult(
                    round: entry.probe.round, gateway: entry.probe.gateway.id, contentLatency: ms.map { .milliseconds($0) },
                    failure: ms == nil ? .timeout : nil, bytes: 4096)
                handle(agents[entry.node].onProbeResult(result, now: now), from: entry.node)
            }
            for index in agents.indices {
                if let wake = agents[index].nextWakeup, wake <= now { handle(agents[index].onTick(now: now), from: index) }
            }
        }
    }

    /// Performs node `index`'s directives through the one interpreter (``AgentHost``).
    private mutating func handle(_ directives: [AgentDirective], from index: Int) {
        acting = index
        let wakeup = agents[index].nextWakeup
        AgentHost.perform(directives, nextWakeup: wakeup, in: &self)
    }
}

/// Every node's ``AgentEnvironment``: a lossless 2 ms network, probes answered after the
/// table's latency (2 s for a missing gateway, then a timeout).
extension GatewayCloud: AgentEnvironment {
    mutating func transmit(_ bytes: Data, to endpoint: PeerEndpoint) {
        guard let to = (0..<agents.count).first(where: { TestKeys.endpoint($0) == endpoint }) else { return }
        inFlight.append((now + .milliseconds(2), to, bytes, TestKeys.endpoint(acting)))
    }

    mutating func persist(_ snapshot: PeerSnapshot) {}

    mutating func publish(_ event: AgentEvent) {}

    mutating func probe(_ probe: GatewayProbe) {
        probes += 1
        let delay = latencies[probe.gateway.id] ?? 2_000
        pendingProbes.append((now + .milliseconds(delay), acting, probe))
    }

    mutating func schedule(wakeup: Instant?) {
        // Every step reads each agent's nextWakeup.
    }
}
