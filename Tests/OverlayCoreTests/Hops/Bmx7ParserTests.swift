import Testing
import OverlayCore

/// bmx7's JSON originators list. The sample is written by hand from bmx7's originator status
/// fields (`shortId`, `nodeId`, `name`, `primaryIp`, `metric`, `hops`, ...).
@Suite struct Bmx7ParserTests {
    static let originators = """
        {"originators":[
          {"shortId":"1a2b3c4d","nodeId":"1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d","name":"gw-north","assessedState":"alive",
           "primaryIp":"fd70:1a2b:3c4d::1","dev":"wlan0","nbLocalIp":"fe80::1","nbShortId":"5e6f7a8b","nbName":"relay-a",
           "metric":"576M","ogmHist":"2/1:576M","hops":2,"ogmSqn":1200,"lastRef":1},
          {"shortId":"5e6f7a8b","name":"relay-a","primaryIp":"fd70:5e6f:7a8b::1","dev":"wlan0","metric":"999M","hops":1},
          {"shortId":"9c0d1e2f","name":"me","primaryIp":"fd70:9c0d:1e2f::1","metric":"128G","hops":0},
          {"shortId":"aabbccdd","name":"lost","primaryIp":"fd70::dead","metric":"0","hops":3}
        ]}
        """

    let parser = Bmx7Parser()

    @Test func everyNameOfAnOriginatorMapsToItsHops() throws {
        let table = try parser.parse(Self.originators)
        for key in ["gw-north", "1a2b3c4d", "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "fd70:1a2b:3c4d::1"] {
            #expect(table.hops(for: key) == 2, "\(key)")
        }
        #expect(table.hops(for: "relay-a") == 1)
        #expect(table.hops(for: "me") == 0)
        #expect(table.hops(for: "lost") == nil, "a zero metric means no route")
    }

    @Test func aBareArrayIsAcceptedToo() throws {
        let table = try parser.parse(#"[{"name":"relay-a","hops":1}]"#)
        #expect(table.hops(for: "RELAY-A") == 1)
    }

    static let malformed: [(String, String)] = [
        ("", "the output is empty"),
        ("connect: No such file or directory", "not valid JSON"),
        (#"{"status":{"name":"me"}}"#, #"no "originators" array"#),
        (#"{"originators":[{"name":"old","metric":"999M","primaryIp":"fd70::1"}]}"#, #"originator 1 has no "hops" field"#),
        (#"{"originators":[{"name":"a","hops":1},{"name":"b","hops":"two"}]}"#, #"originator 2's "hops" is not a non-negative integer"#),
        (#"{"originators":[{"name":"a","hops":-1}]}"#, "not a non-negative integer"),
        (#"{"originators":[{"metric":"999M","hops":1}]}"#, "originator 1 has none of name, shortId, nodeId, primaryIp"),
        (#"{"originators":["relay-a"]}"#, "originator 1 is not a JSON object"),
        ("42", "neither an object"),
    ]

    @Test(arguments: malformed) func malformedOutputIsRefusedWithOneClearSentence(output: String, expected: String) {
        do {
            let table = try parser.parse(output)
            Issue.record("accepted malformed output as \(table)")
        } catch {
            #expect(error.format == .bmx7)
            #expect(error.description.contains(expected), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }
}
