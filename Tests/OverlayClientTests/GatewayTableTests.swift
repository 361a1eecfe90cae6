import Foundation
import OverlayAPI
@testable import OverlayClient
import Testing

/// The text `overlayctl gateways`, `selection`, `observations` and `events` print, and the
/// client's incremental decoding of the event stream.
struct GatewayTableTests {
    @Test func gatewayTableShowsEstimateLoadAndStatus() {
        let rows = FakeProvider().gatewayRows.sorted { $0.id < $1.id }
        let expected = """
            GATEWAY        PROXY           HOPS  ESTIMATE  OBSERVERS     AGE  LOAD  STATUS
            10.1.2.3:3128  10.1.2.3:3128   2     41.0ms    3             12s  4/32  current
            gw-poble       [fd00::7]:3128  —     —         0             —    1/8   excluded: denied by preferences
            gw-raval       10.9.0.1:8888   5     10s       2 (2 failed)  40s  0/—   eligible

            """
        #expect(GatewayTable.render(rows) == expected)
    }

    @Test func gatewayStatusNamesACurrentGatewayThatIsNoLongerEligible() {
        var gateway = FakeProvider().gatewayRows[1]
        gateway.eligible = false
        gateway.excludedReason = nil
        #expect(GatewayTable.status(gateway) == "current, excluded: not eligible")
        gateway.excludedReason = "beyond\u{1B}[2J the horizon"
        #expect(GatewayTable.status(gateway) == "current, excluded: beyond?[2J the horizon")
    }

    @Test func emptyGatewayTableIsJustTheTitles() {
        #expect(GatewayTable.render([]) == "GATEWAY  PROXY  HOPS  ESTIMATE  OBSERVERS  AGE  LOAD  STATUS\n")
    }

    @Test func selectionSummaryExplainsTheChoiceAndListsCandidates() {
        var selection = FakeProvider().selectionAnswer
        selection.version = "0.1.0"
        let expected = """
            gateway     10.1.2.3:3128 (chosen 2m05s ago)
            why         Switched to 10.1.2.3:3128: gw-raval failed for most observers.
            round       12, current failed, strategy collaborative
            previous    gw-raval
            cost        3 probes sent, 17 shared estimates used, 12 rounds
            next round  in 4m12s

            CANDIDATE      BASIS       LATENCY  SPREAD   OBSERVERS  CLIENTS  SCORE   NOTE
            gw-raval       shared      —        ±12.0ms  2          0        —       previous, unusable
            10.1.2.3:3128  probed      41.0ms   —        1          4        46.2ms  chosen
            gw-sants       unmeasured  —        —        0          0        —       unusable

            """
        #expect(SelectionSummary.render(selection) == expected)
    }

    @Test func selectionSummaryBeforeTheFirstRoundSaysSo() {
        let selection = SelectionResponse(
            version: "0.1.0", strategy: "collaborative", current: nil, previous: nil, reason: nil,
            decidedSecondsAgo: nil, explanation: nil, round: 0, candidates: [], probesSent: 0,
            sharedEstimatesUsed: 0, roundsCompleted: 0, nextRoundInSeconds: nil)
        let expected = """
            gateway     none
            why         no selection round has completed yet
            round       none yet, strategy collaborative
            previous    —
            cost        0 probes sent, 0 shared estimates used, 0 rounds
            next round  not scheduled

            """
        #expect(SelectionSummary.render(selection) == expected)
    }

    @Test func observationTableShowsResultsAndUnknownObservers() {
        let rows = FakeProvider().observationRows
        let expected = """
            OBSERVER  ID            GATEWAY        RESULT   LATENCY  TTFB    BYTES  HOPS  AGE
            gw-raval  3c3c3c3c3c3c  gw-raval       timeout  —        —       0      —     1m02s
            node-12   abababababab  10.1.2.3:3128  ok       41.0ms   12.0ms  512    2     12s
            —         f0f0f0f0f0f0  10.1.2.3:3128  ok       38.5ms   11.1ms  512    1     30s

            """
        #expect(ObservationTable.render(rows) == expected)
    }

    @Test func eventLinesDescribeEveryType() {
        let at: Int64 = 1_714_557_600_123
        #expect(EventLine.render(.memberChange("gw-raval", "alive", "suspect", at: at))
            == "2024-05-01T10:00:00.123Z  member     gw-raval (3c3c3c3c3c3c): alive -> suspect, incarnation 7\n")
        #expect(EventLine.describe(.memberChange("gw-raval", nil, "alive", at: at)) == "gw-raval (3c3c3c3c3c3c): joined as alive, incarnation 7")
        #expect(EventLine.describe(.memberChange("gw-raval", "failed", nil, at: at)) == "gw-raval (3c3c3c3c3c3c): removed from the view (was failed), incarnation 7")
        let selection = EventRecord.selection(
            SelectionEvent(from: nil, to: "gw-sants", reason: "start", explanation: "Chose gw-sants: the only usable candidate."), atMs: at)
        #expect(EventLine.render(selection)
            == "2024-05-01T10:00:00.123Z  selection  none -> gw-sants (start): Chose gw-sants: the only usable candidate.\n")
        #expect(EventLine.describe(.view(ViewEvent(epoch: 4, members: ["a", "b", "c"]), atMs: at)) == "epoch 4, 3 members")
        #expect(EventLine.describe(.quorum(QuorumEvent(hasQuorum: false, reachable: 2, viewSize: 5), atMs: at))
            == "lost: 2 of 5 members reachable")
        #expect(EventLine.describe(.quorum(QuorumEvent(hasQuorum: true, reachable: 3, viewSize: 5), atMs: at))
            == "regained: 3 of 5 members reachable")
        #expect(EventLine.describe(EventRecord(type: "weather", atMs: at)).hasSuffix("use --json to see it"))
        #expect(EventLine.describe(EventRecord(type: "member", atMs: at)).hasSuffix("use --json to see it"))
    }

    @Test func hostileEventTextCannotRewriteTheTerminal() {
        let event = EventRecord.selection(
            SelectionEvent(from: "a\u{1B}[2J", to: "b\nc", reason: "x\u{7}", explanation: "d\r\ne"), atMs: 0)
        let line = EventLine.render(event)
        #expect(line.split(separator: "\n").count == 1)
        #expect(!line.unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\n" })
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(EventLine.timestamp(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(EventLine.timestamp(milliseconds: 1_714_557_600_005) == "2024-05-01T10:00:00.005Z")
        #expect(EventLine.timestamp(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    // MARK: Incremental decoding of the stream

    private let wire = Array("15\r\n{\"a\":1}\n{\"b\":2}\n{\"c\":\r\n4;ext=1\r\n3}\n\n\r\n0\r\nX-T: y\r\n\r\nextra".utf8)

    @Test func chunkedDecoderGivesTheSameBytesWhateverTheReadSizes() throws {
        var whole = ChunkedBodyDecoder()
        let expected = try whole.feed(wire)
        #expect(String(decoding: expected, as: UTF8.self) == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n\n")
        #expect(whole.isComplete)
        for size in [1, 2, 3, 7] {
            var decoder = ChunkedBodyDecoder()
            var output: [UInt8] = []
            var index = 0
            while index < wire.count {
                output += try decoder.feed(wire[index..<min(wire.count, index + size)])
                index += size
            }
            #expect(output == expected, "read size \(size)")
            #expect(decoder.isComplete)
        }
    }

    @Test func chunkedDecoderWaitsForTheTerminatingChunk() throws {
        var decoder = ChunkedBodyDecoder()
        _ = try decoder.feed(Array("3\r\nabc\r\n".utf8))
        #expect(!decoder.isComplete)
        _ = try decoder.feed(Array("0\r\n".utf8))
        #expect(!decoder.isComplete)  // trailers and the blank line still to come
        _ = try decoder.feed(Array("\r\n".utf8))
        #expect(decoder.isComplete)
    }

    @Test func chunkedDecoderRejectsMalformedFraming() {
        for text in ["zz\r\n", "3\r\nabcXY", "\r\n", "-1\r\n", String(repeating: "1", count: 5000)] {
            var decoder = ChunkedBodyDecoder()
            #expect(throws: HTTPResponseParser.Malformed.self, "\(text.prefix(10))") { try decoder.feed(Array(text.utf8)) }
        }
    }

    @Test func lineSplitterYieldsCompleteNonEmptyLinesWithoutCR() throws {
        var splitter = LineSplitter()
        #expect(try splitter.append(Array("{\"a\"".utf8)).isEmpty)
        let lines = try splitter.append(Array(":1}\r\n\n{\"b\":2}\n{\"c\"".utf8))
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}", "{\"b\":2}"])
        #expect(String(decoding: splitter.remainder, as: UTF8.self) == "{\"c\"")
    }

    @Test func lineSplitterRefusesEndlessLines() {
        var splitter = LineSplitter()
        #expect(throws: HTTPResponseParser.Malformed.self) {
            try splitter.append([UInt8](repeating: UInt8(ascii: "x"), count: LineSplitter.maximumLineLength + 1))
        }
    }
}
