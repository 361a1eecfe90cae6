import Testing
import OverlayCore

/// The selector's strategies other than collaborative: the paper's baselines and RIMO itself,
/// each judging only its own probes of the round.
@Suite struct GatewaySelectorTests {
    typealias F = SelectionFixtures

    static let gateways = (0..<8).map { F.gateway("gw\($0)", hops: 1 + $0 % 4) }
    static let latencies: [GatewayID: Int64] = [
        "gw0": 120, "gw1": 45, "gw2": 300, "gw3": 80, "gw4": 60, "gw5": 200, "gw6": 30, "gw7": 150,
    ]

    @Test func bruteForceProbesEveryEligibleGatewayAndTakesTheBest() {
        var selector = F.selector(.bruteForce, gateways: Self.gateways, preferences: GatewayPreferences(deny: ["gw7"]))
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(round.probes.map(\.id) == ["gw0", "gw1", "gw2", "gw3", "gw4", "gw5", "gw6"])
        let decision = F.complete(&selector, round, latencies: Self.latencies, at: F.start)
        #expect(decision.chosen == "gw6")
        #expect(decision.probed.count == 7)
        #expect(selector.current == "gw6")
    }

    @Test func powerOfTwoProbesTwoDistinctGatewaysAndTakesTheBetter() {
        for seed in UInt64(1)...50 {
            var selector = F.selector(.powerOfTwo, gateways: Self.gateways, seed: seed)
            let round = selector.beginRound(now: F.start, reason: .start)
            #expect(round.probes.count == 2)
            #expect(Set(round.probes.map(\.id)).count == 2)
            let decision = F.complete(&selector, round, latencies: Self.latencies, at: F.start)
            let better = round.probes.map(\.id).min { Self.latencies[$0]! < Self.latencies[$1]! }
            #expect(decision.chosen == better)
        }
    }

    @Test func randomProbesNothing() {
        var chosen = Set<GatewayID>()
        for seed in UInt64(1)...40 {
            var selector = F.selector(.random, gateways: Self.gateways, seed: seed)
            let round = selector.beginRound(now: F.start, reason: .start)
            #expect(round.probes.isEmpty)
            #expect(round.candidates.count == 1)
            let decision = selector.completeRound(round, now: F.start)
            #expect(decision.chosen == round.candidates.first?.id)
            #expect(decision.candidates.allSatisfy { $0.basis == .unmeasured })
            chosen.insert(decision.chosen!)
        }
        #expect(chosen.count >= 6, "random choices spread over the gateways: \(chosen.sorted())")
    }

    @Test func rimoProbesTwoDrawnCandidatesAndThenThePreviousToo() {
        var selector = F.selector(.rimo, gateways: Self.gateways, seed: 5)
        let first = selector.beginRound(now: F.start, reason: .start)
        #expect(first.probes.count == 2, "no previous gateway yet: two candidates (Algorithm 2, line 2)")
        let decision = F.complete(&selector, first, latencies: Self.latencies, at: F.start)
        let previous = try! #require(decision.chosen)

        let later = F.start + .seconds(300)
        let second = selector.beginRound(now: later, reason: .periodic)
        #expect(second.probes.count == 3)
        #expect(second.candidates.last?.id == previous, "the previously used gateway is a candidate (line 3)")
        #expect(Set(second.probes.map(\.id)).count == 3)
    }

    @Test func rimoTakesTheBestMeasuredEvenForASmallGain() {
        // RIMO Algorithm 3 has no hysteresis: 1 ms better is better.
        var selector = F.selector(.rimo, gateways: [F.gateway("a", hops: 1), F.gateway("b", hops: 1)])
        _ = F.complete(&selector, selector.beginRound(now: F.start, reason: .start), latencies: ["a": 50, "b": 80], at: F.start)
        #expect(selector.current == "a")
        let later = F.start + .seconds(10)
        let decision = F.complete(&selector, selector.beginRound(now: later, reason: .requested), latencies: ["a": 50, "b": 49], at: later)
        #expect(decision.chosen == "b")
        #expect(decision.changed)
        #expect(decision.announcement?.gateway == "b")
    }

    @Test func rimoNeverChoosesACandidateWhoseProbeFailed() {
        var selector = F.selector(.rimo, gateways: [F.gateway("a", hops: 1), F.gateway("b", hops: 1)])
        let decision = F.complete(&selector, selector.beginRound(now: F.start, reason: .start), latencies: ["b": 900], at: F.start)
        #expect(decision.chosen == "b")
        #expect(decision.candidates.first { $0.gateway == "a" }?.failure == .timeout)
    }

    @Test func everyProbeFailingLeavesNoGatewayAndAsksForARetry() {
        var selector = F.selector(.rimo, gateways: [F.gateway("a"), F.gateway("b")])
        let decision = F.complete(&selector, selector.beginRound(now: F.start, reason: .start), latencies: [:], at: F.start)
        #expect(decision.chosen == nil)
        #expect(decision.retryAt == F.start + selector.settings.retryInterval)
        #expect(selector.pendingReselection(now: F.start + selector.settings.retryInterval) == .retry)
    }

    @Test func noEligibleGatewayMeansNoChoice() {
        var selector = F.selector(.collaborative, gateways: [F.gateway("a", hops: 4)], preferences: GatewayPreferences(maxHops: 3))
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(round.eligible.isEmpty && round.candidates.isEmpty && round.probes.isEmpty)
        let decision = selector.completeRound(round, now: F.start)
        #expect(decision.chosen == nil)
        #expect(decision.explanation.contains("No gateway passes the preferences"))
    }

    @Test func sameSeedSameInputsSameDecisions() {
        func run() -> [GatewayID?] {
            var selector = F.selector(.rimo, gateways: Self.gateways, seed: 77)
            return (0..<20).map { step in
                let now = F.start + .seconds(Int64(step) * 300)
                return F.complete(&selector, selector.beginRound(now: now, reason: .periodic), latencies: Self.latencies, at: now).chosen
            }
        }
        #expect(run() == run())
    }

    @Test func hopTableOverridesStaticHops() {
        var selector = F.selector(.rimo, gateways: [F.gateway("far", hops: 9, routeKey: "02:AA:00:00:00:05")])
        #expect(selector.eligibleGateways().first?.weight == 2)
        selector.updateHops(HopTable(["02:aa:00:00:00:05": 1]))
        #expect(selector.eligibleGateways().first?.weight == 10)
        #expect(selector.makeObservation(of: "far", contentLatency: .milliseconds(5), now: F.start).hops == 1)
    }

    @Test func observationSequencesKeepGrowingAcrossARestart() {
        var before = F.selector(.rimo, gateways: Self.gateways)
        let old = before.makeObservation(of: "gw0", contentLatency: .milliseconds(5), now: F.start)
        let next = before.makeObservation(of: "gw0", contentLatency: .milliseconds(5), now: F.start)
        #expect(next.sequence > old.sequence)
        var restarted = F.selector(.rimo, gateways: Self.gateways)
        let fresh = restarted.makeObservation(of: "gw0", contentLatency: .milliseconds(5), now: F.start + .seconds(1))
        #expect(fresh.sequence > next.sequence)
    }
}
