import Testing
import OverlayCore

/// "How useful is old information?" (Mitzenmacher 2000): when many nodes choose at once from
/// the same slightly stale data, sending each to the best-looking gateway overloads it; two
/// random choices, with equally good gateways treated as equal, spread them.
@Suite struct AntiHerdingSelectionTests {
    typealias F = SelectionFixtures

    static let gateways = (0..<10).map { F.gateway("gw\($0)", hops: 2) }
    /// Five good gateways within 16 ms of each other (probe noise), five bad ones.
    static let latencies: [GatewayID: Int64] = [
        "gw0": 40, "gw1": 44, "gw2": 48, "gw3": 52, "gw4": 56,
        "gw5": 300, "gw6": 350, "gw7": 400, "gw8": 450, "gw9": 500,
    ]
    static let good: [GatewayID] = ["gw0", "gw1", "gw2", "gw3", "gw4"]

    /// 100 selectors with the same shared estimates and no load information choose at once.
    static func chooseAtOnce(_ strategy: GatewaySelector.Strategy, trial: UInt64) -> [GatewayID: Int] {
        var counts: [GatewayID: Int] = [:]
        for index in 0..<100 {
            var selector = F.selector(strategy, gateways: gateways, seed: trial * 1_000 + UInt64(index), node: index)
            selector.cloudSize = 100
            F.share(&selector, latencies, at: F.start - .seconds(20))
            let round = selector.beginRound(now: F.start, reason: .start)
            let decision = F.complete(&selector, round, latencies: latencies, at: F.start)
            counts[decision.chosen!, default: 0] += 1
        }
        return counts
    }

    @Test func simultaneousSelectorsSpreadOverTheGoodGateways() {
        var total: [GatewayID: Int] = [:]
        for trial in UInt64(1)...10 {
            let counts = Self.chooseAtOnce(.collaborative, trial: trial)
            let onGood = Self.good.reduce(0) { $0 + (counts[$1] ?? 0) }
            // No trial sends even half of the cloud to one gateway (brute force sends all).
            #expect(counts.values.allSatisfy { $0 < 40 }, "trial \(trial): \(counts)")
            #expect(onGood >= 65, "trial \(trial): \(onGood) of 100 on good gateways")
            for (gateway, count) in counts { total[gateway, default: 0] += count }
        }
        let onGood = Self.good.reduce(0) { $0 + (total[$1] ?? 0) }
        let fairShare = Double(onGood) / Double(Self.good.count)
        for gateway in Self.good {
            let share = Double(total[gateway] ?? 0)
            #expect(share <= 1.3 * fairShare, "\(gateway): \(share) against a fair share of \(fairShare)")
            #expect(share >= 0.7 * fairShare, "\(gateway): \(share) against a fair share of \(fairShare)")
        }
    }

    @Test func bruteForceHerdsOntoTheSingleBest() {
        let counts = Self.chooseAtOnce(.bruteForce, trial: 1)
        #expect(counts == ["gw0": 100])
    }

    @Test func collaborativeSpendsAtMostItsBudgetWhenTheCloudHasMeasuredEverything() {
        var probes = 0
        for index in 0..<100 {
            var selector = F.selector(.collaborative, gateways: Self.gateways, seed: UInt64(index), node: index, settings: .standard)
            selector.cloudSize = 100
            F.share(&selector, Self.latencies, at: F.start - .seconds(20))
            probes += selector.beginRound(now: F.start, reason: .start).probes.count
        }
        // Every gateway has its three observers: half rate, an eighth of a probe per node.
        #expect(probes > 0 && probes <= 25, "\(probes) probes by 100 nodes, budget 25")
    }

    /// A node on `a` (with `others` more nodes of the cloud on it) learns that `b` became far
    /// better: does it move this round?
    static func movesToTheBetterGateway(others: Int, seed: UInt64) -> Bool {
        let gateways = [F.gateway("a", hops: 2, capacity: 200), F.gateway("b", hops: 2, capacity: 50)]
        var selector = F.selector(.collaborative, gateways: gateways, seed: seed)
        F.share(&selector, ["a": 50, "b": 500], at: F.start)
        precondition(F.sharedOnlyRound(&selector, now: F.start, reason: .start).chosen == "a")
        for index in 0..<others {
            selector.receive(SelectionAnnouncement(node: F.node(100 + index), gateway: "a", sequence: 1, announcedAt: F.start))
        }
        let later = F.start + .seconds(10)
        F.share(&selector, ["a": 300, "b": 40], at: later, sequence: 2)
        return F.sharedOnlyRound(&selector, now: later, reason: .periodic).chosen == "b"
    }

    @Test func aCrowdMovesARoomsWorthAtATime() {
        // b (capacity 50, idle) stays clearly better than a's 300 ms for about 29 more clients
        // (LoadModel, a third of it used by others): of 100 nodes on a that all see it at once,
        // about 29 move, not 100 (brute force's herd), and the next round sees their moves.
        let moved = (UInt64(1)...100).filter { Self.movesToTheBetterGateway(others: 99, seed: $0) }.count
        #expect(moved >= 12 && moved <= 50, "\(moved) of 100 moved")
        // A node alone on a moves at once: nobody else may take b's room.
        #expect((UInt64(1)...20).allSatisfy { Self.movesToTheBetterGateway(others: 0, seed: $0) })
    }
}
