import OverlayAPI
import OverlayClient
import Testing

/// The text `overlayctl peers` and `overlayctl status` print.
struct PeerTableTests {
    @Test func peerTableAlignsColumnsLikeSerfMembers() {
        let rows = FakeProvider().peerRows.sorted { ($0.isLocal ? 0 : 1, $0.name) < ($1.isLocal ? 0 : 1, $1.name) }
        let expected = """
            NAME      ID            ADDRESS         STATE    INC  LAST HEARD  RTT
            node-12   abababababab  10.1.2.12:7946  alive    2    self        —
            gw-raval  3c3c3c3c3c3c  [fd00::9]:7946  suspect  7    —           153ms
            gw-sants  f0f0f0f0f0f0  10.1.2.3:7946   alive    4    0.4s        12.5ms
            node-07   010101010101  10.1.2.7:7946   failed   1    1m15s       —

            """
        #expect(PeerTable.render(rows) == expected)
    }

    @Test func hostileNamesCannotRewriteTheTerminal() {
        var peer = FakeProvider().peerRows[0]
        peer.name = "evil\u{1B}[2J\nnode-99  fake\u{202E}"
        let table = PeerTable.render([peer])
        #expect(table.split(separator: "\n").count == 2)
        #expect(!table.unicodeScalars.contains("\u{1B}"))
        #expect(PeerTable.cells(peer)[0] == "evil?[2J?node-99  fake?")
        #expect(PeerTable.displaySafe("gw-sànts ☂") == "gw-sànts ☂")
    }

    @Test func emptyTableIsJustTheTitles() {
        #expect(PeerTable.render([]) == "NAME  ID  ADDRESS  STATE  INC  LAST HEARD  RTT\n")
    }

    @Test func lastHeardShowsSelfNeverOrAShortDuration() {
        var peer = FakeProvider().peerRows[0]
        #expect(PeerTable.lastHeard(peer) == "0.4s")
        peer.lastHeardSecondsAgo = nil
        #expect(PeerTable.lastHeard(peer) == "—")
        peer.isLocal = true
        peer.lastHeardSecondsAgo = 0
        #expect(PeerTable.lastHeard(peer) == "self")
    }

    @Test func durationsUseAtMostTwoUnits() {
        #expect(DurationText.format(seconds: 0) == "0.0s")
        #expect(DurationText.format(seconds: 0.42) == "0.4s")
        #expect(DurationText.format(seconds: 9.94) == "9.9s")
        #expect(DurationText.format(seconds: 9.96) == "10s")
        #expect(DurationText.format(seconds: 59.4) == "59s")
        #expect(DurationText.format(seconds: 75) == "1m15s")
        #expect(DurationText.format(seconds: 7512.5) == "2h05m")
        #expect(DurationText.format(seconds: 3 * 86400 + 4 * 3600 + 5) == "3d04h")
        #expect(DurationText.format(seconds: -3) == "0.0s")
        #expect(DurationText.format(milliseconds: 3.21) == "3.2ms")
        #expect(DurationText.format(milliseconds: 41.04) == "41.0ms")
        #expect(DurationText.format(milliseconds: 153.2) == "153ms")
        #expect(DurationText.format(milliseconds: 1234) == "1.2s")
    }

    @Test func statusSummaryNamesTheNodeAndCountsMembers() {
        let status = StatusResponse(
            version: "0.1.0", node: NodeInfo(id: FakeProvider.localID, name: "node-12", endpoint: "10.1.2.12:7946"),
            uptimeSeconds: 7512.5, incarnation: 2, members: MemberCounts(alive: 2, suspect: 1, failed: 1, left: 0),
            localHealth: 0, protocolPeriodMs: 1000)
        let text = StatusSummary.render(status)
        #expect(text.hasPrefix("node         node-12 (abababababab)\n"))
        #expect(text.contains("daemon       overlayd 0.1.0, API schema 1, up 2h05m\n"))
        #expect(text.contains("members      4: 2 alive, 1 suspect, 1 failed, 0 left\n"))
    }
}
