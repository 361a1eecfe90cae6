import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// One 64-bit seed determines a run: two runs with the same seed have the same trace hash,
/// byte for byte; another seed gives another trace.
@Suite struct DeterminismTests {
    static func eventfulCloud(seed: UInt64) -> SimulatedCloud {
        var configuration = CloudConfiguration(nodeCount: 8)
        configuration.network.lossRate = 0.1
        configuration.network.duplicateRate = 0.05
        configuration.network.reorderRate = 0.2
        configuration.clockRatePPM = 400
        let cloud = SimulatedCloud(configuration: configuration, seed: seed)
        cloud.startAll()
        cloud.run(until: .seconds(15))
        cloud.crash(3)
        cloud.partition([0, 0, 0, 1, 1, 0, 1, 0])
        cloud.run(until: .seconds(35))
        cloud.heal()
        cloud.scheduleStart(3, at: cloud.now)
        _ = cloud.leave(6)
        cloud.run(until: .seconds(60))
        return cloud
    }

    @Test func sameSeedSameTrace() {
        let first = Self.eventfulCloud(seed: 4242)
        let second = Self.eventfulCloud(seed: 4242)
        #expect(first.datagramsSent > 1_000)
        #expect(first.datagramsDropped > 0, "the faults were exercised")
        #expect(first.trace == second.trace)
        #expect(first.datagramsSent == second.datagramsSent)
        #expect(first.bytesSent == second.bytesSent)
        for index in first.nodes.indices {
            #expect(first.membershipFingerprint(index) == second.membershipFingerprint(index))
        }
    }

    @Test func anotherSeedAnotherTrace() {
        #expect(Self.eventfulCloud(seed: 4242).trace != Self.eventfulCloud(seed: 4243).trace)
    }

    @Test func chaosRunsReplayExactly() {
        var first = ChaosRun(seed: 77)
        var second = ChaosRun(seed: 77)
        let a = first.run(), b = second.run()
        #expect(a.trace == b.trace)
        #expect(a.steps == b.steps)
        #expect(a.convergence == b.convergence)
        #expect(a.summary == b.summary)
    }

    @Test func selectionRunsReplayExactly() {
        var scenario = SelectionScenario.paper
        scenario.duration = .seconds(600)
        scenario.warmUp = .seconds(120)
        let first = SelectionExperiment.run(scenario, seed: 5)
        let second = SelectionExperiment.run(scenario, seed: 5)
        for (a, b) in zip(first, second) {
            #expect(a.latencies == b.latencies)
            #expect(a.probes == b.probes)
            #expect(a.loadProfile == b.loadProfile)
        }
        let report = SelectionReport(scenario: scenario, seeds: [5], runs: [first]).csv().render()
        #expect(report == SelectionReport(scenario: scenario, seeds: [5], runs: [second]).csv().render())
    }

    @Test func aForkedCloudReplaysLikeItsOriginal() {
        let base = Self.eventfulCloud(seed: 9)
        let one = base.fork(salt: 1), two = base.fork(salt: 1)
        one.run(for: .seconds(20))
        two.run(for: .seconds(20))
        #expect(one.trace == two.trace)
        let other = base.fork(salt: 2)
        other.network.lossRate = 0.3
        other.run(for: .seconds(20))
        #expect(other.trace != one.trace)
    }
}
