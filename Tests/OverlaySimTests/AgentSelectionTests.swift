import Foundation
@testable import OverlayCore
import OverlayWire
import Testing
@testable import OverlaySim

/// Gateway selection through real agents (`overlay-sim rimo --through-agents`) at a small
/// scale: the agents' own rounds, probes answered by ``WorldProber``, observations and
/// selections gossiped as signed items over a lossy simulated network.
@Suite struct AgentSelectionTests {
    /// 16 agents, 5 gateways, 2 minutes of warm-up and 4 counted, 5% loss.
    static var scenario: SelectionScenario {
        var scenario = SelectionScenario(name: "16x5", clients: 16, gateways: 5, relays: 10, duration: .seconds(240))
        scenario.warmUp = .seconds(120)
        return scenario
    }

    static func run(_ strategy: SelectionStrategy, seed: UInt64 = 3, loss: Double = 0.05) -> (run: AgentSelectionRun, outcome: AgentStrategyResult) {
        let setting = SelectionExperiment.Setting(scenario: scenario, seed: seed)
        var run = AgentSelectionRun(setting: setting, strategy: strategy, selectorStrategy: strategy.selectorStrategy!, seed: seed, lossRate: loss)
        let outcome = run.execute()
        return (run, outcome)
    }

    /// Computed once (thread-safely) and only read afterwards.
    nonisolated(unsafe) static let collaborative = run(.collaborative)
    nonisolated(unsafe) static let rimo = run(.rimo)

    @Test func everyAgentEndsOnAnEligibleGatewayAndTheCloudAgrees() throws {
        let run = Self.collaborative.run
        for index in run.cloud.nodes.indices {
            let selector = try #require(run.cloud.nodes[index].agent?.gateways?.selector)
            let current = try #require(selector.current, "node \(index) has no gateway")
            #expect(selector.eligibleGateways().map(\.id).contains(current))
        }
        // The prober's load is what the agents decided last, and it adds up to every agent.
        #expect(run.prober.load.reduce(0, +) == Self.scenario.clients)
        // Every agent learned (most of) the others' selections through gossip.
        let known = run.cloud.nodes.compactMap { $0.agent?.gateways?.selector.load.totalClients }
        #expect(known.allSatisfy { $0 >= Self.scenario.clients - 2 }, "selections known: \(known)")
    }

    @Test func roundsProbesAndGossipAreCounted() throws {
        let outcome = Self.collaborative.outcome
        let result = outcome.result
        // Every agent runs about one round per 5 s period: 16 agents, 48 periods.
        #expect(result.periods == 48)
        #expect(result.rounds > 16 * 40 && result.rounds < 16 * 60, "rounds \(result.rounds)")
        #expect(result.latencies.count == result.rounds - result.unserved)
        #expect(result.probes > 0, "someone must measure")
        #expect(result.probesPerNodePerRound < 1, "collaborative shares: \(result.probesPerNodePerRound)")
        // Observations (one per probe) and selection announcements are the shared items.
        #expect(result.sharedItems >= result.probes)
        #expect(outcome.gatewayBytes > 0)
        #expect(outcome.gatewayBytes < outcome.bytesSent)
        #expect(outcome.membershipBytesPerNodePerSecond > 50, "SWIM's own traffic: \(outcome.membershipBytesPerNodePerSecond)")
        print("16 agents, 5 gateways, 5% loss: \(outcome.totalBytesPerNodePerSecond) B/s per node in all, membership \(outcome.membershipBytesPerNodePerSecond), probes per node per round \(result.probesPerNodePerRound)")
        // The design's cost target. Not met since the budgeted selector and the hardening
        // landed together (2.7 KB/s on 2026-12-04, 16 agents, 5% loss): a known issue of issue
        // 13's "spend fewer bytes", recorded so the target stays visible.
        withKnownIssue("the whole agent under 2 KB/s per node: 2.7 KB/s measured after the merge of issues 9 and 12") {
            #expect(outcome.totalBytesPerNodePerSecond < 2_048, "the design's cost target")
        }
    }

    @Test func rimoProbesItsCandidatesThroughTheAgents() throws {
        let rimo = Self.rimo.outcome.result
        // Two drawn candidates plus the previous gateway, one of them sometimes the same.
        #expect(rimo.probesPerNodePerRound > 2 && rimo.probesPerNodePerRound <= 3, "\(rimo.probesPerNodePerRound)")
        let collaborative = Self.collaborative.outcome.result
        #expect(collaborative.probesPerNodePerRound < rimo.probesPerNodePerRound)
    }

    @Test func sameSeedSameResultAnotherSeedAnother() {
        let first = Self.run(.collaborative, seed: 8)
        let second = Self.run(.collaborative, seed: 8)
        #expect(first.run.cloud.trace == second.run.cloud.trace)
        #expect(first.outcome.bytesSent == second.outcome.bytesSent)
        #expect(first.outcome.gatewayBytes == second.outcome.gatewayBytes)
        #expect(first.outcome.result.latencies == second.outcome.result.latencies)
        #expect(first.outcome.result.probes == second.outcome.result.probes)
        let report = { (outcome: AgentStrategyResult) in
            AgentSelectionReport(scenario: Self.scenario, seeds: [8], runs: [[outcome]]).selection.csv().render()
        }
        #expect(report(first.outcome) == report(second.outcome))
        let other = Self.run(.collaborative, seed: 9)
        #expect(other.run.cloud.trace != first.run.cloud.trace)
    }

    @Test func lossCostsDatagramsButSelectionStillWorks() {
        let lossless = Self.run(.collaborative, seed: 5, loss: 0).run
        let lossy = Self.run(.collaborative, seed: 5, loss: 0.2).run
        #expect(lossless.cloud.datagramsDropped == 0)
        #expect(lossy.cloud.datagramsDropped > 0)
        for index in lossy.cloud.nodes.indices {
            #expect(lossy.cloud.nodes[index].agent?.gateways?.selector.current != nil)
        }
    }

    /// The gateway bytes of a datagram are exactly its gateway items with their framing.
    @Test func gatewayTrafficCountsOnlyGatewayItems() throws {
        let identities = SimIdentities(count: 2, seed: 1)
        let now = Instant(milliseconds: 1_700_000_000_000)
        let observation = SignedItem(
            kind: ObservationCodec.kind(.success(
                observer: identities.ids[0], gateway: "gw1", contentLatency: .milliseconds(80), takenAt: now, sequence: 1)),
            signer: identities.signer(0), now: now)
        let claim = SignedItem(
            kind: Membership.aliveKind(name: "node1", endpoint: SimIdentities.endpoint(1), incarnation: 1),
            signer: identities.signer(1), now: now)
        func datagram(_ items: [SignedItem]) throws -> Data {
            var packet = Overlayd_V1_Packet()
            packet.session = 7
            packet.message = .gossip(Overlayd_V1_Gossip())
            packet.items = items.map(\.wire)
            var datagram = Overlayd_V1_Datagram()
            datagram.version = 1
            datagram.sender = identities.ids[1].data
            datagram.packet = try packet.serializedBytes()
            datagram.signature = Data(repeating: 1, count: 64)
            return try datagram.serializedBytes()
        }
        let none = try datagram([claim])
        let both = try datagram([claim, observation])
        let alone = try datagram([observation])
        #expect(GatewayTraffic.gatewayBytes(in: none) == 0)
        let framed = try datagram([]).count
        // Beside a member claim, the observation's share: what it adds to the packet (the outer
        // length may grow by a byte).
        #expect(abs(GatewayTraffic.gatewayBytes(in: both) - (both.count - none.count)) <= 1)
        // A gossip datagram that only spreads gateway items exists because of them: it counts whole.
        #expect(GatewayTraffic.gatewayBytes(in: alone) == alone.count)
        #expect(alone.count - framed > 100)
        #expect(GatewayTraffic.gatewayBytes(in: Data([0xFF, 0xFF])) == 0, "garbage counts nothing")
    }
}
