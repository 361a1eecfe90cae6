import Testing
import OverlayCore

/// Collaborative RIMO: RIMO's draw judged by the cloud's shared estimates, probes only where
/// the cloud lacks data, within a budget; load-aware, with hysteresis.
@Suite struct CollaborativeSelectionTests {
    typealias F = SelectionFixtures

    static let gateways = (0..<6).map { F.gateway("gw\($0)", hops: 2) }
    static let latencies: [GatewayID: Int64] = ["gw0": 40, "gw1": 90, "gw2": 150, "gw3": 70, "gw4": 250, "gw5": 120]

    @Test func freshSharedEstimatesMeanNoProbe() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, Self.latencies, at: F.start - .seconds(30))
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(round.candidates.count == 2)
        #expect(round.probes.isEmpty)
        #expect(round.shared == round.candidates.map(\.id))
        let decision = selector.completeRound(round, now: F.start)
        #expect(decision.probed.isEmpty)
        #expect(decision.shared.count == 2)
        let best = round.candidates.map(\.id).min { Self.latencies[$0]! < Self.latencies[$1]! }
        #expect(decision.chosen == best)
    }

    @Test func staleSharedDataIsProbed() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, Self.latencies, at: F.start - .seconds(60))
        let later = F.start + selector.settings.freshnessWindow
        let round = selector.beginRound(now: later, reason: .periodic)
        #expect(round.probes.map(\.id) == round.candidates.map(\.id))
        let decision = F.complete(&selector, round, latencies: Self.latencies, at: later)
        #expect(decision.probed == round.candidates.map(\.id))
        #expect(decision.candidates.allSatisfy { $0.observerCount == 1 }, "the stale observations no longer count")
    }

    @Test func missingDataIsProbedAndTheProbeIsStoredForTheCloud() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(round.probes.count == 2)
        let decision = F.complete(&selector, round, latencies: Self.latencies, at: F.start)
        #expect(decision.probed.count == 2)
        for gateway in round.probes {
            #expect(selector.observations.latest(of: gateway.id, by: selector.node)?.contentLatency == .milliseconds(Self.latencies[gateway.id]!))
        }
    }

    @Test func aLoneNodeReprobesWhatItMeasuredOnlyWithinItsBudget() {
        // Its own fresh measurements are the shared data; it refreshes them at about the
        // budget's rate (0.25 probes per round), not every round.
        var probes = 0
        let trials = 400
        for seed in UInt64(1)...UInt64(trials) {
            var selector = F.selector(.collaborative, gateways: [F.gateway("a", hops: 1), F.gateway("b", hops: 1)], seed: seed, settings: .standard)
            _ = F.complete(&selector, selector.beginRound(now: F.start, reason: .start), latencies: ["a": 50, "b": 60], at: F.start)
            probes += selector.beginRound(now: F.start + .seconds(60), reason: .requested).probes.count
        }
        let perRound = Double(probes) / Double(trials)
        #expect(perRound > 0.15 && perRound <= 0.35, "\(perRound) probes per round against a budget of 0.25")
    }

    /// The probes 100 nodes of a 100-node cloud make in one round over 10 gateways that
    /// `observers` nodes measured 10 s ago.
    static func cloudRoundProbes(observers: Int) -> Int {
        let gateways = (0..<10).map { F.gateway("gw\($0)", hops: 2) }
        let latencies = Dictionary(uniqueKeysWithValues: gateways.map { ($0.id, Int64(50)) })
        var total = 0
        for index in 0..<100 {
            var selector = F.selector(.collaborative, gateways: gateways, seed: UInt64(index + 1), node: index, settings: .standard)
            selector.cloudSize = 100
            F.share(&selector, latencies, observers: observers, at: F.start - .seconds(10))
            total += selector.beginRound(now: F.start, reason: .start).probes.count
        }
        return total
    }

    @Test func probesAreBudgetedAcrossTheCloud() {
        // 100 nodes, 10 gateways, each measured by one node: short of the 3 observers wanted,
        // so the whole budget goes to them. Each gateway is a candidate of about
        // 100 · 2/9 = 22 nodes, each probing it with chance 2.5/22: 2.5 probes per gateway,
        // 25 in all, a quarter probe per node (RIMO: 200, two per node).
        var rimoProbes = 0
        for index in 0..<100 {
            var rimo = F.selector(.rimo, gateways: (0..<10).map { F.gateway("gw\($0)", hops: 2) }, seed: UInt64(index + 1), node: index)
            rimoProbes += rimo.beginRound(now: F.start, reason: .start).probes.count
        }
        let total = Self.cloudRoundProbes(observers: 1)
        #expect(rimoProbes == 200)
        #expect(total >= 12 && total <= 40, "total probes \(total), budget 25")
    }

    @Test func aGatewayMeasuredByEnoughNodesIsProbedHalfAsOften() {
        // With 3 observers at its present load a gateway needs refreshing, not measuring: it
        // gets half the probes of one short of observers (about 12 in all, not 25).
        let enough = Self.cloudRoundProbes(observers: 3)
        let short = Self.cloudRoundProbes(observers: 1)
        #expect(enough >= 4 && enough <= 22, "\(enough)")
        #expect(enough < short, "well measured \(enough), short of observers \(short)")
    }

    @Test func aGatewayNobodyMeasuredIsAlwaysProbed() {
        // A cloud's first round, or a new gateway: there is nothing to share, so every node
        // that draws it probes it (once; the next rounds share what these found).
        for seed in UInt64(1)...20 {
            var selector = F.selector(.collaborative, gateways: Self.gateways, seed: seed, settings: .standard)
            selector.cloudSize = 1000
            let round = selector.beginRound(now: F.start, reason: .start)
            #expect(round.probes.map(\.id) == round.candidates.map(\.id))
        }
    }

    @Test func withNoUsableDataANodeChoosesProvisionallyAndRetries() throws {
        // Its probes of both candidates went unanswered in time (the shell completed the round
        // without them): it takes the first drawn provisionally and retries soon.
        var selector = F.selector(.collaborative, gateways: Self.gateways, seed: 3)
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(!round.probes.isEmpty)
        let decision = selector.completeRound(round, now: F.start)
        #expect(decision.chosen == round.candidates.first?.id)
        #expect(decision.retryAt == F.start + selector.settings.retryInterval)
        #expect(decision.explanation.contains("provisionally"))
    }

    @Test func hysteresisKeepsTheCurrentGatewayUnlessTheGainIsClear() {
        var selector = F.selector(.collaborative, gateways: [F.gateway("a", hops: 2), F.gateway("b", hops: 2)])
        F.share(&selector, ["a": 100], at: F.start)
        let first = selector.beginRound(now: F.start, reason: .start)
        _ = F.complete(&selector, first, latencies: ["a": 100, "b": 400], at: F.start)
        #expect(selector.current == "a")

        // b at 90 ms: 10% and 10 ms better, not clear: stay.
        var now = F.start + .seconds(10)
        F.share(&selector, ["a": 100, "b": 90], at: now, sequence: 2)
        var decision = F.sharedOnlyRound(&selector, now: now, reason: .periodic)
        #expect(decision.chosen == "a")
        #expect(!decision.changed)
        #expect(decision.explanation.hasPrefix("Kept a"))

        // b at 60 ms: 40% and 40 ms better: switch.
        now = now + .seconds(10)
        F.share(&selector, ["a": 100, "b": 60], at: now, sequence: 3)
        decision = F.sharedOnlyRound(&selector, now: now, reason: .periodic)
        #expect(decision.chosen == "b")
        #expect(decision.previous == "a")
        #expect(decision.announcement == SelectionAnnouncement(node: selector.node, gateway: "b", sequence: decision.announcement!.sequence, announcedAt: now))
        #expect(decision.explanation.hasPrefix("Switched from a"))
    }

    @Test func equallyGoodCandidatesArePickedAtRandomNotByAFewMilliseconds() {
        // 40 and 44 ms differ by less than the 20 ms switch margin: probe noise, not a ranking.
        var picks: [GatewayID: Int] = [:]
        for seed in UInt64(1)...200 {
            var selector = F.selector(.collaborative, gateways: [F.gateway("a", hops: 2), F.gateway("b", hops: 2)], seed: seed)
            F.share(&selector, ["a": 40, "b": 44], at: F.start)
            let decision = F.sharedOnlyRound(&selector, now: F.start, reason: .start)
            picks[decision.chosen!, default: 0] += 1
        }
        #expect((70...130).contains(picks["a"] ?? 0), "\(picks)")
    }

    @Test func gossipedLoadSteersNodesOffABusyGateway() {
        var selector = F.selector(.collaborative, gateways: [F.gateway("busy", hops: 2, capacity: 20), F.gateway("idle", hops: 2, capacity: 20)])
        for index in 10..<28 {
            selector.receive(SelectionAnnouncement(node: F.node(index), gateway: "busy", sequence: 1, announcedAt: F.start))
        }
        // Measured at this load: busy is as fast as idle, but its clients count against it.
        F.share(&selector, ["busy": 50, "idle": 55], at: F.start)
        #expect(selector.clients(of: "busy") == 18)
        let decision = F.sharedOnlyRound(&selector, now: F.start, reason: .start)
        #expect(decision.chosen == "idle")
        let busy = decision.candidates.first { $0.gateway == "busy" }!
        #expect(busy.score! > busy.contentLatency!)
    }

    @Test func oneLyingObserverCannotChangeTheChoice() {
        var settings = F.judgingOnly
        settings.candidateCount = 3
        let gateways = [F.gateway("best", hops: 2), F.gateway("middle", hops: 2), F.gateway("worst", hops: 2)]
        let honest: [GatewayID: Int64] = ["best": 40, "middle": 80, "worst": 200]
        func selector(_ gateways: [Gateway]) -> GatewaySelector { F.selector(.collaborative, gateways: gateways, settings: settings) }
        func decide(withLiar: Bool) -> (GatewayID?, GatewayEstimate?) {
            var selector = F.selector(.collaborative, gateways: gateways, settings: settings)
            F.share(&selector, honest, observers: withLiar ? 4 : 5, at: F.start)
            if withLiar {
                let liar = F.node(250)
                for (gateway, ms) in [("best", Int64(400)), ("middle", 80), ("worst", 1)] as [(GatewayID, Int64)] {
                    selector.receive(F.ok(liar, gateway, ms: ms, at: F.start), now: F.start)
                }
            }
            let round = selector.beginRound(now: F.start, reason: .start)
            #expect(round.probes.isEmpty)
            let decision = selector.completeRound(round, now: F.start)
            return (decision.chosen, selector.estimate(for: "best", now: F.start))
        }
        let (truthful, honestEstimate) = decide(withLiar: false)
        let (lied, estimate) = decide(withLiar: true)
        #expect(truthful == "best")
        #expect(lied == "best")
        // 40 ms carried to the load with this node on it, the same with or without the liar.
        #expect(estimate?.contentLatency == honestEstimate?.contentLatency)
        #expect(estimate?.contentLatency == selector(gateways).loadModel(of: "best").rescale(.milliseconds(40), from: 0, to: 1))
        #expect(estimate?.observerCount == 5)
    }

    @Test func aCandidateThisNodeJustSawFailIsNotChosenWhateverOthersSay() {
        // A budget of two probes per round covers both candidates of a lone node: it probes
        // what only two others saw.
        var settings = SelectorSettings.standard
        settings.probeBudget = 2
        var selector = F.selector(.collaborative, gateways: [F.gateway("a", hops: 2), F.gateway("b", hops: 2)], settings: settings)
        F.share(&selector, ["a": 20, "b": 90], observers: 2, at: F.start)
        let round = selector.beginRound(now: F.start, reason: .start)
        #expect(Set(round.probes.map(\.id)) == ["a", "b"])
        let decision = F.complete(&selector, round, latencies: ["b": 95], at: F.start)
        #expect(decision.chosen == "b")
        #expect(decision.candidates.first { $0.gateway == "a" }?.failure == .timeout)
    }

    @Test func sequentialNodesSeeingEachOthersLoadBalanceIt() {
        // 100 nodes join one after another; each hears the earlier ones' announcements.
        let gateways = (0..<5).map { F.gateway("gw\($0)", hops: 2) }
        let latencies = Dictionary(uniqueKeysWithValues: gateways.map { ($0.id, Int64(50)) })
        var announcements: [SelectionAnnouncement] = []
        for index in 0..<100 {
            var selector = F.selector(.collaborative, gateways: gateways, seed: UInt64(1000 + index), node: index)
            // The announcements first, then observations taken at that load (observations
            // that predate a load change no longer count as fresh: LoadStampTests).
            for announcement in announcements { selector.receive(announcement) }
            F.share(&selector, latencies, at: F.start)
            let decision = F.sharedOnlyRound(&selector, now: F.start, reason: .start)
            announcements.append(decision.announcement!)
        }
        var load = GatewayLoad()
        for announcement in announcements { load.apply(announcement) }
        let busiest = load.byGateway.map(\.clients).max() ?? 0
        #expect(load.totalClients == 100)
        #expect(Double(busiest) <= 1.3 * 20, "loads \(load.byGateway)")
    }
}
