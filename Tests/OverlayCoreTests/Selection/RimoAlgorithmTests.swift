import Testing
import OverlayCore

/// RIMO Algorithms 1-3 (Batbayar et al. 2018, section 2), step by step.
@Suite struct RimoAlgorithmTests {
    typealias F = SelectionFixtures

    static let gateways = [
        F.gateway("a", hops: 1), F.gateway("b", hops: 3), F.gateway("c", hops: 6), F.gateway("d"), F.gateway("e", hops: 2),
    ]

    static func weighted(_ hops: [Int], maxHops: Int = 10) -> [WeightedGateway] {
        Rimo.weigh(hops.enumerated().map { F.gateway("g\($0.offset)", hops: $0.element) }, maxHops: maxHops) { $0.hops }
    }

    // MARK: Algorithm 1

    @Test func filterKeepsAllowedUndeniedGatewaysWithinTheUsersHopLimit() {
        let preferences = GatewayPreferences(allow: ["a", "b", "c", "d"], deny: ["b"], maxHops: 5)
        let kept = Rimo.filter(Self.gateways, preferences: preferences, maxHops: 10) { $0.hops }
        // b is denied (deny wins over allow), c is 6 hops away, d's distance is unknown (taken as
        // MaxHOPS = 10), e is not on the allow list.
        #expect(kept.map(\.id) == ["a"])
    }

    @Test func emptyAllowListAdmitsEveryGatewayButTheDenied() {
        let kept = Rimo.filter(Self.gateways, preferences: GatewayPreferences(deny: ["c"]), maxHops: 10) { $0.hops }
        #expect(kept.map(\.id) == ["a", "b", "d", "e"])
    }

    @Test func filterDropsGatewaysBeyondTheHorizon() {
        let kept = Rimo.filter(Self.gateways, preferences: GatewayPreferences(), maxHops: 4) { $0.hops }
        // c (6 hops) is beyond MaxHOPS; d (unknown) is assumed at the horizon and kept.
        #expect(kept.map(\.id) == ["a", "b", "d", "e"])
    }

    @Test func weightIsMaxHopsPlusOneMinusHops() {
        let weights = Rimo.weigh(Self.gateways + [F.gateway("z", hops: 0)], maxHops: 10) { $0.hops }
        #expect(weights.map(\.id) == ["a", "b", "c", "d", "e", "z"])
        #expect(weights.map(\.weight) == [10, 8, 5, 1, 9, 11])
        #expect(weights.map(\.hopsKnown) == [true, true, true, false, true, true])
    }

    @Test func weightedGatewaysDoNotDependOnInputOrder() {
        let forward = Rimo.weightedGateways(Self.gateways, preferences: GatewayPreferences(), maxHops: 10) { $0.hops }
        let backward = Rimo.weightedGateways(Self.gateways.reversed(), preferences: GatewayPreferences(), maxHops: 10) { $0.hops }
        #expect(forward == backward)
    }

    // MARK: Algorithm 2

    @Test func candidatesAlwaysIncludeThePreviousGatewayAndTwoDistinctOthers() {
        let weighted = Self.weighted([1, 2, 3, 4, 5, 6])
        for seed in UInt64(1)...500 {
            var rng = DeterministicRandom(seed: seed)
            let candidates = Rimo.candidates(from: weighted, previous: "g3", using: &rng).map(\.id)
            #expect(candidates.count == 3)
            #expect(candidates.last == "g3")
            #expect(Set(candidates).count == 3, "seed \(seed): \(candidates)")
        }
    }

    @Test func deniedPreviousGatewayIsNotKept() {
        let weighted = Self.weighted([1, 2, 3])
        var rng = DeterministicRandom(seed: 7)
        let candidates = Rimo.candidates(from: weighted, previous: "gone", using: &rng)
        #expect(candidates.count == 2)
        #expect(!candidates.map(\.id).contains("gone"))
    }

    @Test func fewerGatewaysThanDrawsYieldsThemAll() {
        var rng = DeterministicRandom(seed: 3)
        let candidates = Rimo.candidates(from: Self.weighted([2, 5]), previous: "g0", using: &rng)
        #expect(candidates.map(\.id) == ["g1", "g0"])
    }

    @Test func weightedDrawsFollowTheHopWeights() {
        // Weights 10, 9, 7, 4, 1 (hops 1, 2, 4, 7, 10 with MaxHOPS 10).
        let weighted = Self.weighted([1, 2, 4, 7, 10])
        let weights = weighted.map { Double($0.weight) }
        let total = weights.reduce(0, +)
        // Inclusion probability of a draw of two without replacement:
        // P(i) = w_i/W + sum over j != i of (w_j/W) · w_i/(W - w_j).
        let expected = weights.indices.map { i in
            weights[i] / total + weights.indices.filter { $0 != i }.reduce(0.0) { sum, j in
                sum + weights[j] / total * weights[i] / (total - weights[j])
            }
        }
        let draws = 20_000
        var firsts = [Int](repeating: 0, count: weights.count)
        var included = [Int](repeating: 0, count: weights.count)
        var rng = DeterministicRandom(seed: 42)
        for _ in 0..<draws {
            let drawn = Rimo.weightedRandomSet(weighted, count: 2, using: &rng)
            #expect(drawn.count == 2 && drawn[0].id != drawn[1].id)
            firsts[weighted.firstIndex(of: drawn[0])!] += 1
            for gateway in drawn { included[weighted.firstIndex(of: gateway)!] += 1 }
        }
        for i in weights.indices {
            let first = Double(firsts[i]) / Double(draws)
            let inclusion = Double(included[i]) / Double(draws)
            #expect(abs(first - weights[i] / total) < 0.015, "first draw of \(weighted[i]): \(first)")
            #expect(abs(inclusion - expected[i]) < 0.015, "inclusion of \(weighted[i]): \(inclusion) vs \(expected[i])")
        }
        #expect(included == included.sorted(by: >), "nearer gateways are drawn more often: \(included)")
    }

    @Test func drawIsAFunctionOfTheSeed() {
        let weighted = Self.weighted([1, 2, 3, 4, 5, 6, 7])
        var first = DeterministicRandom(seed: 99)
        var second = DeterministicRandom(seed: 99)
        let a = (0..<50).map { _ in Rimo.weightedRandomSet(weighted, count: 2, using: &first).map(\.id) }
        let b = (0..<50).map { _ in Rimo.weightedRandomSet(Array(weighted.reversed()), count: 2, using: &second).map(\.id) }
        #expect(a == b)
    }

    // MARK: Algorithm 3

    @Test func bestPicksTheLowestContentLatency() {
        let best = Rimo.best([
            .init(gateway: "a", contentLatency: .milliseconds(90), hops: 1),
            .init(gateway: "b", contentLatency: .milliseconds(35), hops: 4),
            .init(gateway: "c", contentLatency: .milliseconds(60), hops: 2),
        ])
        #expect(best?.gateway == "b")
    }

    @Test func bestBreaksTiesByHopsThenName() {
        let samples: [Rimo.Sample] = [
            .init(gateway: "c", contentLatency: .milliseconds(50), hops: 3),
            .init(gateway: "b", contentLatency: .milliseconds(50), hops: 2),
            .init(gateway: "a", contentLatency: .milliseconds(50), hops: 2),
        ]
        #expect(Rimo.best(samples)?.gateway == "a")
        #expect(Rimo.best([]) == nil)
    }
}
