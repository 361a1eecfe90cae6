import Foundation
import NIOCore
import OverlayAPI
@testable import OverlayClient
@testable import OverlayNode
import Testing

/// The local socket's limits: each refusal is a JSON error with a stable code, then a close;
/// and the socket has its mode and group from the moment it can be reached.
@Suite struct APILimitsTests {
    private static let limits = APILimits(maxBodyBytes: 1024, maxHeaderBytes: 2048, maxConnections: 2, requestTimeout: .milliseconds(300))

    private func withServer(group: gid_t? = nil, _ body: (APIServer) async throws -> Void) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(
            socketPath: directory + "/overlayd.sock", provider: FakeProvider(), version: "1.2.3", limits: Self.limits,
            socketGroup: group)
        try await server.start()
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Sends `bytes` on a new connection and reads until the server closes it (bounded by the
    /// socket's 5 s read timeout).
    private func exchange(_ path: String, _ bytes: [UInt8]) async throws -> String {
        try await onThread {
            let fd = try connectRaw(to: path)
            defer { close(fd) }
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var answer: [UInt8] = []
            while true {
                // The server may close with request bytes unread, which resets the connection
                // after its answer: an error once the answer is in ends it like a close.
                guard let part = try? readSome(fd) else {
                    if answer.isEmpty { throw POSIXError(.ETIMEDOUT) }
                    break
                }
                if part.isEmpty { break }
                answer += part
            }
            return String(decoding: answer, as: UTF8.self)
        }
    }

    private func errorCode(_ answer: String) -> String? {
        guard let start = answer.range(of: "\r\n\r\n")?.upperBound,
              let body = try? APISchema.makeDecoder().decode(APIErrorResponse.self, from: Data(answer[start...].utf8))
        else { return nil }
        return body.error.code.rawValue
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        try await withServer { server in
            let request = "POST /v1/reload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 5000)
            let answer = try await exchange(server.socketPath, Array(request.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
            #expect(errorCode(answer) == "request_too_large")
            // Within the limit, the same request is routed as usual.
            let small = "GET /v1/status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789"
            #expect(try await exchange(server.socketPath, Array(small.utf8)).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func headersOverTheLimitAre431() async throws {
        try await withServer { server in
            let request = "GET /v1/status HTTP/1.1\r\nHost: localhost\r\nX-Padding: \(String(repeating: "a", count: 3000))\r\n\r\n"
            let answer = try await exchange(server.socketPath, Array(request.utf8))
            #expect(answer.hasPrefix("HTTP/1.1 431"), "\(answer)")
            #expect(errorCode(answer) == "headers_too_large")
        }
    }

    @Test func aClientTooSlowToSendItsRequestIs408() async throws {
        try await withServer { server in
            let started = ContinuousClock.now
            // Half a request, then silence: far below the 30 s idle timeout, over the 300 ms deadline.
            let answer = try await exchange(server.socketPath, Array("GET /v1/sta".utf8))
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(errorCode(answer) == "request_timeout")
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func connectionsOverTheLimitAre503AndAFreedSlotIsReused() async throws {
        try await withServer { server in
            let path = server.socketPath
            let first = try connectRaw(to: path)
            let second = try connectRaw(to: path)
            defer { close(second) }
            // Connections are set up on several event loops, in no fixed order: an answered
            // request on each shows both are admitted before the third arrives.
            for fd in [first, second] {
                let request = Array("GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                let answer = try await onThread { try readSome(fd) }
                #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            }
            let answer = try await exchange(path, Array("GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(errorCode(answer) == "too_many_connections")
            close(first)
            // The server notices the close within milliseconds; bounded at 5 s.
            let deadline = ContinuousClock.now + .seconds(5)
            var status = ""
            while ContinuousClock.now < deadline {
                status = try await exchange(path, Array("GET /v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8))
                if status.hasPrefix("HTTP/1.1 200") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status.hasPrefix("HTTP/1.1 200"), "\(status)")
        }
    }

    @Test(.enabled(if: getuid() == 0))
    func theSocketHasItsModeAndGroupWhenItAppearsAndNoStagingIsLeft() async throws {
        try await withServer(group: 65534) { server in
            var info = stat()
            #expect(stat(server.socketPath, &info) == 0)
            #expect(info.st_mode & 0o777 == APIServer.defaultSocketMode)
            #expect(info.st_gid == 65534)
            let directory = (server.socketPath as NSString).deletingLastPathComponent
            let entries = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(entries == ["overlayd.sock"])
        }
    }
}
