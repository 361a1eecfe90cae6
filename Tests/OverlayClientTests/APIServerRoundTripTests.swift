import Foundation
import OverlayAPI
@testable import OverlayClient
import OverlayNode
import Testing

/// The real thing: an ``APIServer`` on a temporary Unix socket, queried with ``LocalAPIClient``.
struct APIServerRoundTripTests {
    /// Runs `body` against a started server; stops it and removes the directory afterwards.
    private func withServer(
        mode: mode_t = APIServer.defaultSocketMode,
        _ body: (APIServer, LocalAPIClient) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(
            socketPath: directory + "/overlayd.sock", socketMode: mode, provider: FakeProvider(), version: "1.2.3")
        try await server.start()
        do {
            try await body(server, LocalAPIClient(socketPath: server.socketPath))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func statusAndPeersDecodeOverTheSocket() async throws {
        try await withServer { _, client in
            let status = try await onThread { try client.status() }
            #expect(status.schema == 1)
            #expect(status.version == "1.2.3")
            #expect(status.node.id == FakeProvider.localID)
            #expect(status.members == MemberCounts(alive: 2, suspect: 1, failed: 1, left: 0))

            let peers = try await onThread { try client.peers() }
            #expect(peers.version == "1.2.3")
            #expect(peers.peers.count == 4)
            #expect(peers.peers.first?.isLocal == true)
            #expect(peers.peers.first { $0.name == "gw-sants" }?.roundTripMs == 12.5)

            let unhealthy = try await onThread { try client.peers(state: ["suspect", "failed"]) }
            #expect(unhealthy.peers.map(\.name) == ["gw-raval", "node-07"])
            let gateways = try await onThread { try client.peers(name: "gw-*") }
            #expect(gateways.peers.map(\.name) == ["gw-raval", "gw-sants"])
            let both = try await onThread { try client.peers(state: ["alive"], name: "sants") }
            #expect(both.peers.map(\.name) == ["gw-sants"])
        }
    }

    @Test func errorsArriveAsJSONWithAStableCode() async throws {
        try await withServer { _, client in
            let (status, body) = try await onThread { try client.get("/v1/nope") }
            #expect(status == 404)
            let error = try APISchema.makeDecoder().decode(APIErrorResponse.self, from: body)
            #expect(error == APIErrorResponse(
                version: "1.2.3", error: APIErrorBody(code: .notFound, message: error.error.message)))

            let refusal = try await #require(throws: LocalAPIError.self) {
                try await onThread { try client.peers(state: ["bogus"]) }
            }
            #expect(refusal.httpStatus == 400)
            #expect(refusal.code == .badRequest)
            #expect(!refusal.isDaemonUnreachable)
            #expect(refusal.description.hasPrefix("overlayd refused the request: unknown state 'bogus'"))
            #expect(!refusal.description.contains("\n"))
        }
    }

    @Test func responsesCarryJSONContentTypeAndTheVersionHeader() async throws {
        try await withServer { _, client in
            let peers = try await onThread { try client.exchange(method: "GET", path: "/v1/peers") }
            #expect(peers.status == 200)
            #expect(peers.header("content-type") == "application/json")
            #expect(peers.header("x-overlayd-version") == "1.2.3")

            let metrics = try await onThread { try client.exchange(method: "GET", path: "/metrics") }
            #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4")
            #expect(metrics.header("X-Overlayd-Version") == "1.2.3")
            #expect(String(decoding: metrics.body, as: UTF8.self).hasPrefix("# TYPE overlayd_members gauge"))

            let post = try await onThread { try client.exchange(method: "POST", path: "/v1/status") }
            #expect(post.status == 405)
            #expect(post.header("Allow") == "GET")
        }
    }

    @Test func socketGetsItsModeAndIsRemovedOnStop() async throws {
        for mode: mode_t in [0o660, 0o600] {
            var path = ""
            try await withServer(mode: mode) { server, _ in
                path = server.socketPath
                var info = stat()
                #expect(stat(path, &info) == 0)
                #expect(info.st_mode & S_IFMT == S_IFSOCK)
                #expect(info.st_mode & 0o777 == mode)
                #expect(await server.isRunning)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func staleSocketFileIsReplaced() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let path = directory + "/overlayd.sock"
        try leaveStaleSocket(at: path)
        #expect(FileManager.default.fileExists(atPath: path))

        let server = APIServer(socketPath: path, provider: FakeProvider(), version: "1.2.3")
        try await server.start()
        let status = try await onThread { try LocalAPIClient(socketPath: path).status() }
        #expect(status.version == "1.2.3")
        await server.stop()
    }

    @Test func secondServerRefusesALiveSocket() async throws {
        try await withServer { server, client in
            let second = APIServer(socketPath: server.socketPath, provider: FakeProvider(), version: "2")
            await #expect(throws: APIServerError.self) { try await second.start() }
            // The first server still answers.
            let status = try await onThread { try client.status() }
            #expect(status.version == "1.2.3")
        }
    }

    @Test func missingDirectoryIsCreated() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(socketPath: directory + "/run/api.sock", provider: FakeProvider(), version: "1")
        try await server.start()
        let client = LocalAPIClient(socketPath: server.socketPath)
        let status = try await onThread { try client.status() }
        #expect(status.version == "1")
        await server.stop()
    }

    @Test func stopClosesKeepAliveConnections() async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(socketPath: directory + "/overlayd.sock", provider: FakeProvider(), version: "1")
        try await server.start()
        let fd = try connectRaw(to: server.socketPath)
        defer { close(fd) }
        let request = Array("GET /v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        #expect(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } == request.count)
        let first = try await onThread { try readSome(fd) }
        #expect(String(decoding: first, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
        #expect(String(decoding: first, as: UTF8.self).contains("Connection: keep-alive"))

        await server.stop()
        // The server closed its end: the next read sees the end of the stream.
        let after = try await onThread { try readSome(fd) }
        #expect(after.isEmpty)
    }

    @Test func manySequentialRequestsAreAnswered() async throws {
        try await withServer { _, client in
            for _ in 0..<50 {
                let answer = try await onThread { try client.get("/v1/status") }
                #expect(answer.status == 200)
            }
        }
    }
}

/// Runs blocking client code on a thread of its own.
///
/// The client blocks its thread until the answer arrives, and the server answers from Swift's
/// cooperative pool (two threads on a two-core machine): calling the client from a test task
/// directly could occupy every pool thread and starve the server. overlayctl is a separate
/// process, so it never meets this.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Connects a plain Unix stream socket with a 5 s read timeout.
func connectRaw(to path: String) throws -> Int32 {
    #if canImport(Glibc)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var limit = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else {
        close(fd)
        throw POSIXError(.ECONNREFUSED)
    }
    return fd
}

/// One `recv` of up to 64 KiB; empty at the end of the stream.
func readSome(_ fd: Int32) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard count >= 0 else { throw POSIXError(.ETIMEDOUT) }
    return Array(buffer[..<count])
}

/// Binds a Unix socket at `path` and closes it without removing the file, as a crash would.
func leaveStaleSocket(at path: String) throws {
    #if canImport(Glibc)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else { throw POSIXError(.EADDRINUSE) }
}
