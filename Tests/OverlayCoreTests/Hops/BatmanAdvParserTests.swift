import Testing
import OverlayCore

/// batctl's originator and gateway tables, JSON and text. The samples are written by hand from
/// batctl's documented formats (genl JSON attribute names; the `o` and `gwl` row layouts).
@Suite struct BatmanAdvParserTests {
    static let originatorsJSON = """
        [{"hard_ifindex":3,"hard_ifname":"mesh0","orig_address":"02:aa:00:00:00:02","best":true,"last_seen_msecs":120,"neigh_address":"02:aa:00:00:00:02","tq":251},\
        {"hard_ifindex":3,"hard_ifname":"mesh0","orig_address":"02:aa:00:00:00:03","last_seen_msecs":820,"neigh_address":"02:aa:00:00:00:03","tq":90},\
        {"hard_ifindex":3,"hard_ifname":"mesh0","orig_address":"02:aa:00:00:00:03","best":true,"last_seen_msecs":820,"neigh_address":"02:aa:00:00:00:02","tq":224},\
        {"hard_ifindex":3,"hard_ifname":"mesh0","orig_address":"02:AA:00:00:00:04","best":true,"last_seen_msecs":1040,"neigh_address":"02:aa:00:00:00:02","tq":197}]
        """

    static let gatewaysJSON = """
        [{"orig_address":"02:aa:00:00:00:05","best":true,"hard_ifname":"mesh0","router":"02:aa:00:00:00:02","tq":220,"bandwidth_down":100,"bandwidth_up":20},
         {"orig_address":"02:aa:00:00:00:02","hard_ifname":"mesh0","router":"02:aa:00:00:00:02","tq":251,"bandwidth_down":500,"bandwidth_up":100}]
        """

    static let originatorsV = """
        [{"hard_ifname":"mesh0","orig_address":"02:bb:00:00:00:02","best":true,"last_seen_msecs":100,"neigh_address":"02:bb:00:00:00:02","throughput":54000},
         {"hard_ifname":"mesh0","orig_address":"02:bb:00:00:00:03","best":true,"last_seen_msecs":300,"neigh_address":"02:bb:00:00:00:02","throughput":21000}]
        """

    static let originatorsText = """
        [B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:aa:00:00:00:01 (bat0/02:aa:00:00:00:ff BATMAN_IV)]
           Originator        last-seen (#/255) Nexthop           [outgoingIF]
         * 02:aa:00:00:00:02    0.120s   (251) 02:aa:00:00:00:02 [     mesh0]
           02:aa:00:00:00:03    0.820s   ( 90) 02:aa:00:00:00:03 [     mesh0]
         * 02:aa:00:00:00:03    0.820s   (224) 02:aa:00:00:00:02 [     mesh0]
         * 02:aa:00:00:00:04    1.040s   (197) 02:aa:00:00:00:02 [     mesh0]

        """

    static let gatewaysText = """
        [B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:aa:00:00:00:01 (bat0/02:aa:00:00:00:ff BATMAN_IV)]
          Router            ( TQ) Next Hop          [outgoingIf]  Bandwidth
        * 02:aa:00:00:00:05 (220) 02:aa:00:00:00:02 [     mesh0]: 10.0/2.0 MBit
          02:aa:00:00:00:02 (251) 02:aa:00:00:00:02 [     mesh0]: 50.0/10.0 MBit
        """

    static let originatorsTextV = """
        [B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:bb:00:00:00:01 (bat0/02:bb:00:00:00:ff BATMAN_V)]
           Originator        last-seen ( throughput)  Nexthop           [outgoingIF]
         * 02:bb:00:00:00:02    0.100s (       54.0) 02:bb:00:00:00:02 [     mesh0]
         * 02:bb:00:00:00:03    0.300s (       21.0) 02:bb:00:00:00:02 [     mesh0]
        """

    let parser = BatmanAdvParser()

    @Test func originatorsJSONGivesOneHopForNeighboursAndTQEstimatesBeyond() throws {
        let table = try parser.parse(Self.originatorsJSON)
        #expect(table.hops(for: "02:aa:00:00:00:02") == 1)
        #expect(table.hops(for: "02:aa:00:00:00:03") == 2, "the best route (via 02, TQ 224), not the weak direct one")
        #expect(table.hops(for: "02:aa:00:00:00:04") == 3)
        #expect(table.count == 3)
    }

    @Test func gatewaysJSONUsesTheRouterAsNextHop() throws {
        let table = try parser.parse(Self.gatewaysJSON)
        #expect(table.hops(for: "02:aa:00:00:00:05") == 2)
        #expect(table.hops(for: "02:aa:00:00:00:02") == 1)
    }

    @Test func batmanVCountsMultiHopOriginatorsAsTwo() throws {
        let table = try parser.parse(Self.originatorsV)
        #expect(table.hops(for: "02:bb:00:00:00:02") == 1)
        #expect(table.hops(for: "02:bb:00:00:00:03") == 2)
        #expect(try parser.parse(Self.originatorsTextV) == table)
    }

    @Test func textTablesReadLikeTheirJSON() throws {
        #expect(try parser.parse(Self.originatorsText) == parser.parse(Self.originatorsJSON))
        #expect(try parser.parse(Self.gatewaysText) == parser.parse(Self.gatewaysJSON))
    }

    @Test func emptyJSONArrayIsALoneNode() throws {
        #expect(try parser.parse("[]\n").isEmpty)
    }

    @Test func hopEstimateFollowsTheHopPenalty() {
        #expect(parser.estimatedHops(tq: 255) == 1)
        #expect(parser.estimatedHops(tq: 225) == 2)
        #expect(parser.estimatedHops(tq: 198) == 3)
        #expect(BatmanAdvParser(hopPenalty: 15).estimatedHops(tq: 225) == 3)
    }

    static let malformed: [(String, String)] = [
        ("", "the output is empty"),
        ("Error - mesh has not been enabled yet\n", "neither batctl JSON nor a batctl table"),
        ("[{\"orig_address\":\"02:aa:00:00:00:02\",\"neigh_address\":", "not valid JSON"),
        ("[{\"neigh_address\":\"02:aa:00:00:00:02\",\"tq\":200}]", "entry 1 has no orig_address"),
        ("[{\"orig_address\":\"02:aa:zz:00:00:02\",\"neigh_address\":\"02:aa:00:00:00:02\"}]", "entry 1's orig_address is not a MAC address"),
        ("[{\"orig_address\":\"02:aa:00:00:00:02\",\"neigh_address\":\"02:aa:00:00:00:02\",\"tq\":300}]", "tq is not a number from 0 to 255"),
        ("[{\"orig_address\":\"02:aa:00:00:00:02\",\"tq\":200}]", "neither neigh_address"),
        ("[42]", "entry 1 is not a JSON object"),
        ("[B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:aa:00:00:00:01 (bat0/02:aa:00:00:00:ff BATMAN_IV)]\n   Name  Age\n", "line 2"),
        ("[B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:aa:00:00:00:01 (bat0/02:aa:00:00:00:ff BATMAN_IV)]\n   Originator        last-seen (#/255) Nexthop           [outgoingIF]\n * 02:aa:00:00:00:02    0.120s   (251) 02:aa:00:00:00:02 [     mesh0]\n * 02:aa:00:00:00:03 garbage\n", "line 4: expected an originator row"),
        ("[B.A.T.M.A.N. adv 2023.1, MainIF/MAC: mesh0/02:aa:00:00:00:01 (bat0/02:aa:00:00:00:ff BATMAN_IV)]\n   Originator        last-seen (#/255) Nexthop           [outgoingIF]\n * 02:aa:00:00:00:02    0.120s   (999) 02:aa:00:00:00:02 [     mesh0]\n", "line 3"),
    ]

    @Test(arguments: malformed) func malformedOutputIsRefusedWithOneClearSentence(output: String, expected: String) {
        do {
            let table = try parser.parse(output)
            Issue.record("accepted malformed output as \(table)")
        } catch {
            #expect(error.format == .batmanAdv)
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("The batman-adv output could not be read"))
            #expect(error.description.hasSuffix("the previous hop table is kept."))
            #expect(!error.description.contains("\n"))
        }
    }
}
