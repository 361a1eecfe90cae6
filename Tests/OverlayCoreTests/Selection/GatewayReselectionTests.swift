import Testing
import OverlayCore

/// When a new round is due: start, periodic (jittered), current failed or degraded, current no
/// longer eligible, preferences changed, retry.
@Suite struct GatewayReselectionTests {
    typealias F = SelectionFixtures

    static let gateways = [F.gateway("a", hops: 1), F.gateway("b", hops: 2)]

    /// A collaborative selector that has chosen `a` at `F.start` from shared data.
    static func settledOnA() -> GatewaySelector {
        var selector = F.selector(.collaborative, gateways: gateways)
        F.share(&selector, ["a": 50, "b": 300], at: F.start - .seconds(1))
        let decision = F.sharedOnlyRound(&selector, now: F.start, reason: .start)
        precondition(decision.chosen == "a")
        return selector
    }

    @Test func aNodeThatNeverSelectedNeedsAStartRound() {
        let selector = F.selector(.collaborative, gateways: Self.gateways)
        #expect(selector.pendingReselection(now: F.start) == .start)
        #expect(selector.nextRoundDue == nil)
    }

    @Test func periodicReselectionIsDueAfterAJitteredPeriod() {
        var due: Set<Int64> = []
        for seed in UInt64(1)...20 {
            var selector = F.selector(.collaborative, gateways: Self.gateways, seed: seed)
            F.share(&selector, ["a": 50, "b": 300], at: F.start)
            _ = F.sharedOnlyRound(&selector, now: F.start, reason: .start)
            let next = selector.nextPeriodicRoundAt!
            let period = selector.settings.reselectionPeriod
            #expect(next >= F.start + period.scaled(by: 0.8) && next <= F.start + period.scaled(by: 1.2))
            #expect(selector.pendingReselection(now: next - .milliseconds(1)) == nil)
            #expect(selector.pendingReselection(now: next) == .periodic)
            due.insert(next.milliseconds)
        }
        #expect(due.count > 10, "nodes started together do not reselect together")
    }

    @Test func ownFailedProbeOfTheCurrentGatewayTriggersReselection() {
        var selector = Self.settledOnA()
        let now = F.start + .seconds(5)
        #expect(selector.pendingReselection(now: now) == nil)
        let failed = selector.makeObservation(of: "a", contentLatency: nil, failure: .connectFailed, now: now)
        selector.receive(failed, now: now)
        #expect(selector.pendingReselection(now: now) == .currentFailed)
        let decision = F.complete(&selector, selector.beginRound(now: now, reason: .currentFailed), latencies: [:], at: now)
        #expect(decision.chosen == "b", "its own failure outweighs the others' fresh 50 ms")
        #expect(selector.pendingReselection(now: now + .seconds(1)) == nil, "the failure was already acted on")
    }

    @Test func mostObserversSeeingTheCurrentGatewayFailTriggersReselection() {
        var selector = Self.settledOnA()
        let now = F.start + .seconds(5)
        for index in 0..<3 {
            selector.receive(F.failed(F.node(200 + index), "a", at: now, sequence: 2), now: now)
        }
        #expect(selector.estimate(for: "a", now: now)?.isFailing == true)
        #expect(selector.pendingReselection(now: now) == .currentFailed)
    }

    @Test func degradationPastTheThresholdTriggersReselection() {
        var selector = Self.settledOnA()
        var now = F.start + .seconds(5)
        // 50 → 120 ms: more than twice, but less than 200 ms worse.
        F.share(&selector, ["a": 120], at: now, sequence: 2)
        #expect(selector.pendingReselection(now: now) == nil)
        now = now + .seconds(5)
        F.share(&selector, ["a": 400], at: now, sequence: 3)
        #expect(selector.pendingReselection(now: now) == .currentDegraded)
    }

    @Test func deniedCurrentGatewayIsNoLongerEligible() {
        var selector = Self.settledOnA()
        #expect(selector.updatePreferences(GatewayPreferences(deny: ["a"])) == .preferencesChanged)
        #expect(selector.updatePreferences(GatewayPreferences(deny: ["a"])) == nil, "no change, no round")
        #expect(selector.pendingReselection(now: F.start + .seconds(1)) == .currentUnavailable)
        let now = F.start + .seconds(1)
        let decision = F.complete(&selector, selector.beginRound(now: now, reason: .preferencesChanged), latencies: ["b": 300], at: now)
        #expect(decision.chosen == "b")
        #expect(decision.reason == .preferencesChanged)
    }

    @Test func withdrawnCurrentGatewayIsNoLongerEligible() {
        var selector = Self.settledOnA()
        selector.updateGateways([F.gateway("b", hops: 2)])
        #expect(selector.pendingReselection(now: F.start + .seconds(1)) == .currentUnavailable)
    }
}
