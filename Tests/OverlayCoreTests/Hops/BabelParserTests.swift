import Testing
import OverlayCore

/// babeld's local interface `dump`. The sample is written by hand from the line formats of
/// babeld's local.c (`add neighbour ...`, `add xroute ...`, `add route ... metric N refmetric N ...`).
@Suite struct BabelParserTests {
    static let dump = """
        BABEL 1.0
        version babeld-1.13.1
        host relay-b
        my-id 02:16:3e:ff:fe:00:00:0b
        ok
        add interface wlan0 up true ipv6 fe80::216:3eff:fe00:b ipv4 10.44.0.11
        add interface eth0 up false
        add neighbour 5621f2c0 address fe80::216:3eff:fe00:a if wlan0 reach ffff ureach 0000 rxcost 256 txcost 256 rtt 2.104 rttcost 0 cost 256
        add xroute 10.44.0.11/32-0.0.0.0/0 prefix 10.44.0.11/32 from 0.0.0.0/0 metric 0
        add route 5621f4a0 prefix 10.44.0.10/32 from 0.0.0.0/0 installed yes id 02:16:3e:ff:fe:00:00:0a metric 256 refmetric 0 via fe80::216:3eff:fe00:a if wlan0
        add route 5621f520 prefix 10.44.0.20/32 from 0.0.0.0/0 installed yes id 02:16:3e:ff:fe:00:00:14 metric 768 refmetric 512 via fe80::216:3eff:fe00:a if wlan0
        add route 5621f5a0 prefix 10.44.0.20/32 from 0.0.0.0/0 installed no id 02:16:3e:ff:fe:00:00:14 metric 1024 refmetric 768 via fe80::216:3eff:fe00:c if wlan0
        add route 5621f620 prefix 0.0.0.0/0 from 0.0.0.0/0 installed yes id 02:16:3e:ff:fe:00:00:14 metric 768 refmetric 512 via fe80::216:3eff:fe00:a if wlan0
        add route 5621f6a0 prefix 10.44.0.30/32 from 0.0.0.0/0 installed yes id 02:16:3e:ff:fe:00:00:1e metric 65535 refmetric 65535 via fe80::216:3eff:fe00:a if wlan0
        add route 5621f720 prefix fd44::40/128 from ::/0 installed yes id 02:16:3e:ff:fe:00:00:28 metric 1280 refmetric 1024 via fe80::216:3eff:fe00:a if wlan0
        ok

        """

    let parser = BabelParser()

    @Test func dumpGivesHopsToNeighboursPrefixesAndRouters() throws {
        let table = try parser.parse(Self.dump)
        #expect(table.hops(for: "fe80::216:3eff:fe00:a") == 1, "a neighbour")
        #expect(table.hops(for: "10.44.0.11") == 0, "this node's own route")
        #expect(table.hops(for: "10.44.0.10") == 1, "refmetric 0: straight from its origin")
        #expect(table.hops(for: "02:16:3e:ff:fe:00:00:0a") == 1)
        #expect(table.hops(for: "10.44.0.20") == 3, "refmetric 512 = two more hops of 256")
        #expect(table.hops(for: "10.44.0.20/32") == 3)
        #expect(table.hops(for: "02:16:3e:ff:fe:00:00:14") == 3)
        #expect(table.hops(for: "0.0.0.0/0") == 3)
        #expect(table.hops(for: "fd44::40") == 5)
        #expect(table.hops(for: "10.44.0.30") == nil, "an infinite metric is a retracted route")
    }

    @Test func aFlushedRouteIsForgotten() throws {
        let table = try parser.parse(Self.dump + "flush route 5621f520\n")
        #expect(table.hops(for: "10.44.0.20") == nil)
        #expect(table.isUnreachable("10.44.0.20"), "its only installed route was flushed")
        #expect(table.hops(for: "02:16:3e:ff:fe:00:00:14") == 3, "still announced through the default route")
    }

    @Test func crlfLineEndingsAreAccepted() throws {
        let crlf = Self.dump.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        #expect(try parser.parse(crlf) == parser.parse(Self.dump))
    }

    @Test func hopCostCanBeFixed() throws {
        #expect(BabelParser.estimatedHops(refmetric: 192, hopCost: 96) == 3)
        #expect(BabelParser.estimatedHops(refmetric: 0, hopCost: 96) == 1)
        #expect(BabelParser.estimatedHops(refmetric: 10, hopCost: 96) == 2, "through a neighbour that is not the origin")
        let fixed = BabelParser(hopCost: 128)
        #expect(try fixed.parse(Self.dump).hops(for: "10.44.0.20") == 5, "512 / 128 = 4 more hops")
    }

    @Test func theLearnedHopCostIsTheMedianOfTheLiveNeighbours() {
        #expect(BabelParser.learnedHopCost([96, 96, 256]) == 96)
        #expect(BabelParser.learnedHopCost([256, 96]) == 96, "the lower median")
        #expect(BabelParser.learnedHopCost([65535, 300]) == 300, "a neighbour whose link is down does not count")
        #expect(BabelParser.learnedHopCost([]) == nil)
    }

    @Test func aRetractedRouteIsUnreachableNotUnknown() throws {
        let table = try parser.parse(Self.dump)
        #expect(table.isUnreachable("10.44.0.30"))
        #expect(table.isUnreachable("10.44.0.30/32"))
        #expect(!table.isUnreachable("02:16:3e:ff:fe:00:00:1e"), "a retracted route's router ID is not its origin's")
        #expect(!table.isUnreachable("10.44.0.99"), "never mentioned: unknown")
        #expect(!table.isUnreachable("10.44.0.20"))
    }

    static let malformed: [(String, String)] = [
        ("", "the output is empty"),
        ("BABEL 1.0\nbad\n", "line 2: babeld refused the command"),
        ("BABEL 1.0\nno unknown command\n", "refused the command"),
        ("<html><body>502 Bad Gateway</body></html>\n", "line 1: expected a line of babeld's local interface"),
        ("add route 1 prefix 10.0.0.1/32 from 0.0.0.0/0 installed yes id 02:00:00:ff:fe:00:00:01 refmetric 0 via fe80::1 if wlan0\n", "line 1: the route line has no metric"),
        ("add route 1 prefix 10.0.0.1/32 from 0.0.0.0/0 installed yes id 02:00:00:ff:fe:00:00:01 metric lots refmetric 0 via fe80::1 if wlan0\n", "is not a number"),
        ("add route 1 prefix 10.0.0.1/32 from 0.0.0.0/0 installed maybe id x metric 256 refmetric 0 via fe80::1 if wlan0\n", "installed field is not yes or no"),
        ("ok\nadd neighbour 1 address\n", "line 2: expected key-value pairs"),
        ("add neighbour 1 if wlan0 cost 256\n", "the neighbour line has no address"),
        ("add route\n", "needs a kind and an identifier"),
    ]

    @Test(arguments: malformed) func malformedOutputIsRefusedWithOneClearSentence(output: String, expected: String) {
        do {
            let table = try parser.parse(output)
            Issue.record("accepted malformed output as \(table)")
        } catch {
            #expect(error.format == .babel)
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }
}

/// The hop table in use keeps the last good read when a read fails.
@Suite struct HopsCacheTests {
    @Test func aMalformedReadKeepsTheLastGoodTable() {
        var cache = HopTableCache(initial: HopTable(["static-gw": 4]))
        let start = Instant(milliseconds: 1_000)
        let good = cache.refresh(with: BabelParserTests.dump, parser: BabelParser(), now: start)
        #expect((try? good.get())?.hops(for: "10.44.0.10") == 1)
        #expect(cache.table.hops(for: "static-gw") == nil, "a good read replaces the table")
        let goodTable = cache.table

        let bad = cache.refresh(with: "add route 1 prefix 10.0.0.1/32\n", parser: BabelParser(), now: start + .seconds(30))
        guard case .failure(let error) = bad else {
            Issue.record("a malformed read succeeded")
            return
        }
        #expect(cache.table == goodTable)
        #expect(cache.lastError == error)
        #expect(cache.consecutiveFailures == 1)
        #expect(cache.age(now: start + .seconds(30)) == .seconds(30))

        _ = cache.refresh(with: "", parser: BabelParser(), now: start + .seconds(60))
        #expect(cache.consecutiveFailures == 2)
        #expect(cache.table == goodTable)

        _ = cache.refresh(with: #"[{"name":"gw","hops":2}]"#, parser: Bmx7Parser(), now: start + .seconds(90))
        #expect(cache.table.hops(for: "gw") == 2)
        #expect(cache.lastError == nil && cache.consecutiveFailures == 0)
        #expect(cache.updatedAt == start + .seconds(90))
    }

    @Test func staticTablesKeepTheSmallerCountAndDropNegatives() {
        let table = HopTable(["A": 3, "a": 2, "b": -1])
        #expect(table.hops(for: "a") == 2)
        #expect(table.hops(for: "b") == nil)
        #expect(table.merging(HopTable(["a": 1, "c": 5])).sorted.map(\.hops) == [1, 5])
    }
}
