import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// Chaos seeds: a small sweep, and seeds that failed during development, kept as regressions.
@Suite struct ChaosRegressionTests {
    /// Seeds 1, 2, 4, 8 and 12 failed `healed-views-agree` when a change to `Agent.sync`
    /// made every push-pull carry only its first datagram's worth of claims: a member declared
    /// failed on the other side of a partition never learned it, never refuted, and stayed
    /// failed after healing.
    @Test(arguments: [1, 2, 4, 8, 12] as [UInt64])
    func pushPullRegressionSeedsConverge(seed: UInt64) {
        var run = ChaosRun(seed: seed)
        let outcome = run.run()
        #expect(outcome.passed, "\(outcome.violation.map(String.init(describing:)) ?? ""); replay: overlay-sim chaos --seeds \(seed)..\(seed)")
        #expect(outcome.attacks > 0)
    }

    /// A bounded sweep (Swift Testing runs the seeds in parallel).
    @Test(arguments: Array(13...24) as [UInt64])
    func sweep(seed: UInt64) {
        var run = ChaosRun(seed: seed)
        let outcome = run.run()
        #expect(outcome.passed, "\(outcome.violation.map(String.init(describing:)) ?? ""); replay: overlay-sim chaos --seeds \(seed)..\(seed)")
    }

    /// Every attack kind of the standard set is made and refused somewhere in the sweep's seeds.
    @Test func everyStandardAttackIsExercised() {
        var made = Set<Injection.Attack>()
        for seed in 1...6 as ClosedRange<UInt64> {
            let scenario = ChaosScenario(seed: seed)
            for (_, fault) in scenario.faults { if case .attack(let kind) = fault { made.insert(kind) } }
        }
        #expect(made == Set(Injection.standardAttacks))
    }

    /// Found by the simulator: a join datagram names no recipient (the joiner does not know the
    /// seed's key yet), so a captured join is accepted once by any other node that has not yet
    /// seen that (session, sequence) of its sender. Replay: `overlay-sim chaos --seeds 3..3
    /// --attacks redirect-join`. When the core binds joins to a receiver (or drops a join from
    /// a sender it already knows), this known issue disappears and the wrapper must go.
    @Test func aRedirectedJoinIsRefused() {
        withKnownIssue("a captured join is accepted by other nodes (Docs/results.md, 'Findings')") {
            var run = ChaosRun(seed: 3, attacks: [.redirectJoin])
            let outcome = run.run()
            #expect(outcome.violation?.invariant != NoForgedOrReplayedDatagramAccepted().name)
        }
    }
}
