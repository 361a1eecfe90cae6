import Foundation
import OverlayCore
import Testing

/// The babel parser against real babeld 1.12 output captured in the mesh lab
/// (`Fixtures/README.md` says how and from which topology). Each expectation is the hop count
/// the lab's topology implies, worked out here from the topology, not read off the output.
@Suite struct BabelFixtureTests {
    static func fixture(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name).txt")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// Node nK of the lab is 10.77.0.K; gateway gK is 10.77.1.K.
    static func node(_ k: Int) -> String { "10.77.0.\(k)" }
    static func gateway(_ k: Int) -> String { "10.77.1.\(k)" }

    /// In a chain n1-...-n8 with g1 hanging off n1 and g2 off n8, node `from` is |from - k|
    /// hops from nK and one more from a gateway.
    static func chainHops(from: Int, to: Int) -> Int { abs(from - to) }

    let parser = BabelParser()

    @Test(arguments: [1, 4, 8]) func aConvergedWiredChainReadsTheTopologysHopCounts(at here: Int) throws {
        let table = try parser.parse(Self.fixture("chain8-wired-n\(here)"))
        for other in 1...8 {
            #expect(table.hops(for: Self.node(other)) == Self.chainHops(from: here, to: other), "n\(here) to n\(other)")
        }
        #expect(table.hops(for: Self.gateway(1)) == Self.chainHops(from: here, to: 1) + 1, "n\(here) to g1")
        #expect(table.hops(for: Self.gateway(2)) == Self.chainHops(from: here, to: 8) + 1, "n\(here) to g2")
        #expect(table.unreachableKeys.isEmpty)
    }

    /// The bug this replaced: dividing wired costs (96 a hop) by a fixed 256 read n4's 4-hop
    /// route to g1 (refmetric 288) as 2 hops.
    @Test func aFixedWirelessHopCostMisreadsTheWiredChain() throws {
        let wrong = try BabelParser(hopCost: 256).parse(Self.fixture("chain8-wired-n4"))
        #expect(wrong.hops(for: Self.gateway(1)) == 2)
        #expect(try parser.parse(Self.fixture("chain8-wired-n4")).hops(for: Self.gateway(1)) == 4)
    }

    @Test func aWirelessChainReadsRightToo() throws {
        let table = try parser.parse(Self.fixture("chain4-wireless-n4"))
        for other in 1...4 { #expect(table.hops(for: Self.node(other)) == 4 - other) }
        #expect(table.hops(for: Self.gateway(1)) == 4, "refmetric 772 over links of 256")
    }

    /// Link n5-n6 down: from n4, n6..n8 and g2 are cut off; babeld retracts them (metric
    /// 65535) and the parser says unreachable, not unknown.
    @Test(arguments: ["chain8-wired-n4-linkdown-1s", "chain8-wired-n4-linkdown-10s"])
    func aLinkDownMakesTheFarSideUnreachable(fixture: String) throws {
        let table = try parser.parse(Self.fixture(fixture))
        for other in 6...8 {
            #expect(table.hops(for: Self.node(other)) == nil)
            #expect(table.isUnreachable(Self.node(other)))
        }
        #expect(table.isUnreachable(Self.gateway(2)))
        #expect(table.hops(for: Self.gateway(1)) == 4, "the near side is untouched")
        #expect(table.hops(for: Self.node(5)) == 1)
        #expect(!table.isUnreachable(Self.gateway(1)))
    }

    @Test func afterTheLinkComesBackEverythingIsReachableAgain() throws {
        let table = try parser.parse(Self.fixture("chain8-wired-n4-linkup"))
        #expect(table.hops(for: Self.gateway(2)) == 5)
        #expect(table.unreachableKeys.isEmpty)
    }

    /// The monitor stream: cut where babeld first retracts g2, the far side is unreachable;
    /// read whole (after the link came back), it is reachable again at its old distance.
    @Test func theMonitorStreamFollowsTheLinkDownAndUp() throws {
        let stream = try Self.fixture("chain8-wired-n4-monitor")
        let lines = stream.split(separator: "\n", omittingEmptySubsequences: false)
        guard let retraction = lines.firstIndex(where: { $0.contains("prefix 10.77.1.2/32") && $0.contains("metric 65535") }) else {
            Issue.record("the stream has no retraction of g2")
            return
        }
        let before = try parser.parse(lines[..<retraction].joined(separator: "\n"))
        #expect(before.hops(for: Self.gateway(2)) == 5)
        let down = try parser.parse(lines[...retraction].joined(separator: "\n"))
        #expect(down.isUnreachable(Self.gateway(2)))
        #expect(down.hops(for: Self.gateway(1)) == 4)
        let whole = try parser.parse(stream)
        #expect(whole.hops(for: Self.gateway(2)) == 5)
        #expect(!whole.isUnreachable(Self.gateway(2)))
    }

    /// A 3x3 grid (n1 n2 n3 / n4 n5 n6 / n7 n8 n9), link n1-n2 down: babeld reroutes n1's
    /// traffic to n2 over n4 and n5, and the hop count follows (1 -> 3).
    @Test func aRerouteChangesTheHopCount() throws {
        let table = try parser.parse(Self.fixture("grid9-wired-n1-linkdown"))
        #expect(table.hops(for: Self.node(2)) == 3)
        #expect(table.hops(for: Self.node(4)) == 1)
        #expect(table.hops(for: Self.gateway(1)) == 1)
        #expect(table.hops(for: Self.gateway(2)) == 5, "n9 is 4 hops from n1 either way")
    }

    /// What babeld installs is what counts: 14 s after start it still routed n1 to n2 the long
    /// way round (metric 480) while the direct route waited, so the table reads 5, not 1.
    @Test func theInstalledRouteCountsNotTheShortestOne() throws {
        let table = try parser.parse(Self.fixture("grid9-wired-n1-early"))
        #expect(table.hops(for: Self.node(2)) == 5)
        #expect(table.hops(for: Self.node(2) + "/32") == 5)
        #expect(table.hops(for: Self.node(4)) == 1)
    }
}

/// Routes that vanish between two reads.
@Suite struct HopTableCacheRouteGoneTests {
    @Test func aRouteThatVanishesIsUnreachableUntilItComesBack() throws {
        var cache = HopTableCache(initial: HopTable(["static-gw": 2]))
        let start = Instant(milliseconds: 0)
        let full = try BabelFixtureTests.fixture("chain8-wired-n4")
        cache.refresh(with: full, parser: BabelParser(), now: start)
        #expect(!cache.table.isUnreachable("static-gw"), "the static table is not a read")
        let gone = full.split(separator: "\n").filter { !$0.contains("10.77.1.2/32") }.joined(separator: "\n")
        cache.refresh(with: gone, parser: BabelParser(), now: start + .seconds(2))
        #expect(cache.table.isUnreachable("10.77.1.2"))
        cache.refresh(with: gone, parser: BabelParser(), now: start + .seconds(4))
        #expect(cache.table.isUnreachable("10.77.1.2"), "still gone")
        cache.refresh(with: full, parser: BabelParser(), now: start + .seconds(6))
        #expect(cache.table.hops(for: "10.77.1.2") == 5)
        #expect(!cache.table.isUnreachable("10.77.1.2"))
    }
}
