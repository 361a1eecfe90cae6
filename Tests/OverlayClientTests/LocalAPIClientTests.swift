import Foundation
import OverlayAPI
@testable import OverlayClient
import Testing

/// The client without a daemon: error messages, socket path resolution, HTTP parsing.
struct LocalAPIClientTests {
    @Test func missingSocketSaysTheDaemonIsNotRunningInOneSentence() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory + "/overlayd.sock"
        let error = try #require(throws: LocalAPIError.self) { try LocalAPIClient(socketPath: path).status() }
        #expect(error.isDaemonUnreachable)
        #expect(error.httpStatus == nil)
        #expect(error.description == "overlayd is not running (no socket at \(path)); start it with 'systemctl start overlayd' or pass --socket PATH")
        #expect(error == .noSocket(at: path))
    }

    @Test func staleSocketFileSaysNothingIsListening() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory + "/overlayd.sock"
        try leaveStaleSocket(at: path)
        let error = try #require(throws: LocalAPIError.self) { try LocalAPIClient(socketPath: path).peers() }
        #expect(error == .refused(at: path))
        #expect(error.isDaemonUnreachable)
        #expect(error.description.hasPrefix("overlayd is not running (nothing is listening on \(path))"))
    }

    @Test func tooLongSocketPathIsRefusedBeforeConnecting() throws {
        let path = "/tmp/" + String(repeating: "x", count: 200)
        let error = try #require(throws: LocalAPIError.self) { try LocalAPIClient(socketPath: path).status() }
        #expect(error == .pathTooLong(path))
    }

    @Test func socketPathComesFromOptionThenEnvironmentThenDefault() {
        let environment = ["OVERLAYD_SOCKET": "/env/overlayd.sock"]
        #expect(LocalAPISocket.resolve(option: "/opt/x.sock", environment: environment) == "/opt/x.sock")
        #expect(LocalAPISocket.resolve(option: nil, environment: environment) == "/env/overlayd.sock")
        #expect(LocalAPISocket.resolve(option: "", environment: environment) == "/env/overlayd.sock")
        #expect(LocalAPISocket.resolve(option: nil, environment: [:]) == "/run/overlayd/overlayd.sock")
        #expect(LocalAPISocket.resolve(option: nil, environment: ["OVERLAYD_SOCKET": ""]) == "/run/overlayd/overlayd.sock")
    }

    @Test func peersPathPercentEncodesFilters() {
        #expect(LocalAPIClient.peersPath(state: [], name: nil) == "/v1/peers")
        #expect(LocalAPIClient.peersPath(state: ["alive", "suspect"], name: nil) == "/v1/peers?state=alive,suspect")
        #expect(LocalAPIClient.peersPath(state: [], name: "gw *&x") == "/v1/peers?name=gw%20%2A%26x")
    }

    @Test func apiErrorDescriptionIsOneSentenceWithCodeAndStatus() {
        let error = LocalAPIError.api(at: "/s", status: 400, code: .badRequest, message: "unknown state 'x' in the state filter")
        #expect(error.description == "overlayd refused the request: unknown state 'x' in the state filter (bad_request, HTTP 400)")
    }

    // MARK: HTTP parsing

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func parserWaitsForTheWholeContentLengthBody() throws {
        let full = bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try HTTPResponseParser.parse(Array(full.prefix(20)), atEOF: false) == .incomplete)
        #expect(try HTTPResponseParser.parse(Array(full.dropLast(2)), atEOF: false) == .incomplete)
        guard case .complete(let message) = try HTTPResponseParser.parse(full, atEOF: false) else {
            Issue.record("not complete")
            return
        }
        #expect(message.status == 200)
        #expect(message.header("content-type") == "application/json")
        #expect(message.body == Data("hello".utf8))
    }

    @Test func parserJoinsChunkedBodies() throws {
        let full = bytes("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\nA;ext=1\r\n:1234567}\n\r\n0\r\nX-Trailer: y\r\n\r\n")
        for cut in [30, 60, full.count - 1] {
            #expect(try HTTPResponseParser.parse(Array(full.prefix(cut)), atEOF: false) == .incomplete)
        }
        guard case .complete(let message) = try HTTPResponseParser.parse(full, atEOF: false) else {
            Issue.record("not complete")
            return
        }
        #expect(message.status == 404)
        #expect(String(decoding: message.body, as: UTF8.self) == "{\"a\":1234567}\n")
    }

    @Test func parserReadsToTheEndWithoutFraming() throws {
        let full = bytes("HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nbody")
        #expect(try HTTPResponseParser.parse(full, atEOF: false) == .incomplete)
        guard case .complete(let message) = try HTTPResponseParser.parse(full, atEOF: true) else {
            Issue.record("not complete")
            return
        }
        #expect(message.body == Data("body".utf8))
    }

    @Test func parserRejectsWhatIsNotHTTP() {
        #expect(throws: HTTPResponseParser.Malformed.self) {
            try HTTPResponseParser.parse(self.bytes("SSH-2.0-OpenSSH\r\n\r\n"), atEOF: false)
        }
        #expect(throws: HTTPResponseParser.Malformed.self) {
            try HTTPResponseParser.parse(self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), atEOF: true)
        }
        #expect(throws: HTTPResponseParser.Malformed.self) {
            try HTTPResponseParser.parse([], atEOF: true)
        }
        #expect(throws: HTTPResponseParser.Malformed.self) {
            try HTTPResponseParser.parse(self.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), atEOF: false)
        }
    }
}
