import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// The invariant checkers themselves: each must fire on the violation it describes, or a chaos
/// sweep that passes would prove nothing.
@Suite struct InvariantTests {
    static func cloud() -> SimulatedCloud {
        let cloud = SimulatedCloud(configuration: CloudConfiguration(nodeCount: 4), seed: 1)
        cloud.startAll()
        cloud.run(until: .seconds(2))
        return cloud
    }

    static func step(node: Int, kind: StepRecord.Kind = .tick) -> StepRecord {
        StepRecord(time: .seconds(1), node: node, kind: kind)
    }

    @Test func aClaimThatMovesBackIsCaught() {
        let cloud = Self.cloud()
        let subject = cloud.id(1)
        var invariant = ClaimsMoveForward()
        #expect(invariant.observe(0, saw: subject, become: .alive, at: 1, time: .zero, in: cloud) == nil)
        #expect(invariant.observe(0, saw: subject, become: .suspect, at: 1, time: .zero, in: cloud) == nil)
        #expect(invariant.observe(0, saw: subject, become: .alive, at: 2, time: .zero, in: cloud) == nil)
        let backwards = invariant.observe(0, saw: subject, become: .failed, at: 1, time: .zero, in: cloud)
        #expect(backwards?.invariant == "claims-move-forward")
        #expect(invariant.observe(0, saw: subject, become: .alive, at: 2, time: .zero, in: cloud) != nil, "the same claim twice is not forward")
    }

    @Test func forgettingOrRestartingStartsAfresh() {
        let cloud = Self.cloud()
        let subject = cloud.id(1)
        var invariant = ClaimsMoveForward()
        _ = invariant.observe(0, saw: subject, become: .failed, at: 4, time: .zero, in: cloud)
        #expect(invariant.observe(0, saw: subject, become: nil, at: 4, time: .zero, in: cloud) == nil)
        #expect(invariant.observe(0, saw: subject, become: .alive, at: 1, time: .zero, in: cloud) == nil)
        _ = invariant.observe(2, saw: subject, become: .left, at: 9, time: .zero, in: cloud)
        #expect(invariant.afterStep(Self.step(node: 2, kind: .start), in: cloud) == nil)
        #expect(invariant.observe(2, saw: subject, become: .alive, at: 1, time: .zero, in: cloud) == nil)
    }

    @Test func anAcceptedAttackIsCaught() {
        let cloud = Self.cloud()
        var invariant = NoForgedOrReplayedDatagramAccepted()
        var record = Self.step(node: 1, kind: .delivery(from: 0, accepted: true, injected: true))
        record.injection = Injection(attack: .replay, expectation: .refuseDatagram)
        record.fingerprints = (7, 7)
        #expect(invariant.afterStep(record, in: cloud)?.detail.contains("was accepted") == true)

        record.kind = .delivery(from: 0, accepted: false, injected: true)
        record.rejections = [.replayed]
        #expect(invariant.afterStep(record, in: cloud) == nil)

        record.fingerprints = (7, 8)
        #expect(invariant.afterStep(record, in: cloud)?.detail.contains("changed its membership state") == true)
    }

    @Test func forgedItemsMustAllBeRefused() {
        let cloud = Self.cloud()
        var invariant = NoForgedOrReplayedDatagramAccepted()
        var record = Self.step(node: 1, kind: .delivery(from: 0, accepted: true, injected: true))
        record.injection = Injection(attack: .forgedItems, expectation: .refuseItems(3))
        record.fingerprints = (1, 1)
        record.rejections = [.forgedItem, .invalidItem]
        #expect(invariant.afterStep(record, in: cloud) != nil)
        record.rejections.append(.unknownOrigin)
        #expect(invariant.afterStep(record, in: cloud) == nil)
    }

    @Test func healedViewsAgreeOnlyWhenEveryoneSeesEveryoneAlive() {
        let cloud = SimulatedCloud(configuration: CloudConfiguration(nodeCount: 5), seed: 2)
        cloud.startAll()
        cloud.run(until: .seconds(1))
        let invariant = HealedViewsAgree()
        cloud.run(until: .seconds(20))
        #expect(invariant.convergenceGap(in: cloud) == nil)
        cloud.crash(4)
        #expect(invariant.convergenceGap(in: cloud)?.contains("stopped node 4") == true)
        cloud.run(until: .seconds(60))
        #expect(invariant.convergenceGap(in: cloud) == nil, "the crashed node is failed everywhere")
    }

    @Test func incarnationsMustGrowAcrossRestarts() {
        let cloud = SimulatedCloud(configuration: CloudConfiguration(nodeCount: 3), seed: 3)
        var invariant = IncarnationsOnlyGrow()
        cloud.startAll()
        while let record = cloud.step(), cloud.now < .seconds(5) { #expect(invariant.afterStep(record, in: cloud) == nil) }
        cloud.crash(2)
        cloud.scheduleStart(2, at: cloud.now)
        while let record = cloud.step(), cloud.now < .seconds(10) { #expect(invariant.afterStep(record, in: cloud) == nil) }
        #expect(cloud.nodes[2].starts == 2)
        #expect((cloud.nodes[2].agent?.membership.incarnation ?? 0) >= 2)
    }

    /// A custom invariant plugs in beside the membership ones (the quorum view's will).
    @Test func extraInvariantsRunBesideTheMembershipOnes() {
        struct CountsSteps: Invariant {
            let name = "counts-steps"
            var limit: Int
            var seen = 0
            mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation? {
                seen += 1
                return seen > limit ? InvariantViolation(invariant: name, time: step.time, detail: "more than \(limit) steps") : nil
            }
        }
        var run = ChaosRun(seed: 1, invariants: MembershipInvariants.all() + [CountsSteps(limit: 500)])
        let outcome = run.run()
        #expect(outcome.violation?.invariant == "counts-steps")
        #expect(outcome.steps == 501)
    }
}
