import Foundation
import OverlayAPI
@testable import OverlayClient
import OverlayNode
import Testing

/// The gateway routes and the event stream over a real Unix socket, with ``LocalAPIClient``.
struct GatewayRoundTripTests {
    /// Runs `body` against a started server; stops it and removes the directory afterwards.
    private func withServer(
        provider: any LocalAPIProvider = FakeProvider(), writePolicy: APIWritePolicy = APIWritePolicy(),
        _ body: (APIServer, LocalAPIClient) async throws -> Void
    ) async throws {
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(
            socketPath: directory + "/overlayd.sock", provider: provider, version: "1.2.3", writePolicy: writePolicy)
        try await server.start()
        do {
            try await body(server, LocalAPIClient(socketPath: server.socketPath))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func gatewaysObservationsAndSelectionDecodeOverTheSocket() async throws {
        let provider = FakeProvider()
        try await withServer(provider: provider) { _, client in
            let gateways = try await onThread { try client.gateways() }
            #expect(gateways.version == "1.2.3")
            #expect(gateways.gateways == provider.gatewayRows.sorted { $0.id < $1.id })

            let observations = try await onThread { try client.observations(gateway: "10.1.2.3:3128", observer: "F0") }
            #expect(observations.observations.map(\.observer) == [FakeProvider.gatewayID])

            let selection = try await onThread { try client.selection() }
            var expected = provider.selectionAnswer
            expected.schema = 1
            expected.version = "1.2.3"
            #expect(selection == expected)
        }
    }

    @Test func refreshIsAcceptedForTheDaemonsOwnUserByItsPeerCredentials() async throws {
        // The default policy: root and the daemon's user. The test process is both client and
        // server, so only credentials read from the socket can let it through.
        let provider = FakeProvider()
        try await withServer(provider: provider) { _, client in
            let refresh = try await onThread { try client.refreshSelection() }
            #expect(refresh.accepted)
            #expect(refresh.version == "1.2.3")
            let raw = try await onThread { try client.exchange(method: "POST", path: "/v1/selection/refresh") }
            #expect(raw.status == 202)
            #expect(provider.hub.refreshCount == 2)
        }
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func refreshIsForbiddenForAnotherUser() async throws {
        let provider = FakeProvider()
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        chmod(directory, 0o755)
        let server = APIServer(socketPath: directory + "/overlayd.sock", socketMode: 0o666, provider: provider, version: "1.2.3")
        try await server.start()
        defer { Task { await server.stop() } }
        let socketPath = server.socketPath
        @Sendable func curl(_ method: String, _ path: String) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = [
                "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/curl", "-s", "-X", method,
                "--unix-socket", socketPath, "-w", "\n%{http_code}", "http://localhost" + path,
            ]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let refused = try await onThread { try curl("POST", "/v1/selection/refresh") }
        #expect(refused.hasSuffix("\n403"))
        #expect(refused.contains(#""code" : "forbidden""#))
        #expect(refused.contains("user 65534"))
        let read = try await onThread { try curl("GET", "/v1/selection") }
        #expect(read.hasSuffix("\n200"))
        #expect(provider.hub.refreshCount == 0)
        await server.stop()
    }

    @Test func gatewayRoutesAnswerUnavailableAsAnAPIError() async throws {
        try await withServer(provider: MinimalProvider()) { _, client in
            let error = try await #require(throws: LocalAPIError.self) { try await onThread { try client.gateways() } }
            #expect(error.httpStatus == 503)
            #expect(error.code == .unavailable)
            #expect(!error.isDaemonUnreachable)
            let streamError = try await #require(throws: LocalAPIError.self) {
                try await onThread { try client.followEventLines { _ in .keepReading } }
            }
            #expect(streamError.code == .unavailable)
        }
    }

    @Test func eventStreamDeliversPushedEventsInOrder() async throws {
        let provider = FakeProvider()
        try await withServer(provider: provider) { _, client in
            let records: [EventRecord] = (0..<5).map { .memberChange("node-\($0)", nil, "alive", at: 1_000 + Int64($0)) }
            let follower = Task {
                try await onThread { () throws -> ([EventRecord], [Data], LocalAPIClient.FollowEnd) in
                    var events: [EventRecord] = []
                    var lines: [Data] = []
                    let end = try client.followEvents { event, line in
                        events.append(event)
                        lines.append(line)
                        return events.count == 5 ? .stop : .keepReading
                    }
                    return (events, lines, end)
                }
            }
            #expect(await provider.hub.wait { $0.subscriberCount == 1 })
            for record in records { provider.hub.publish(record) }
            let (events, lines, end) = try await follower.value
            #expect(events == records)
            #expect(end == .stoppedByCaller)
            #expect(lines.allSatisfy { $0.last == UInt8(ascii: "}") })  // without the newline
            // The client closed its end: the server drops the subscription.
            #expect(await provider.hub.wait { $0.subscriberCount == 0 })
        }
    }

    @Test func eventStreamEndsWhenTheServerStops() async throws {
        let provider = FakeProvider()
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(socketPath: directory + "/overlayd.sock", provider: provider, version: "1")
        try await server.start()
        let client = LocalAPIClient(socketPath: server.socketPath)
        let follower = Task {
            try await onThread { () throws -> (Int, LocalAPIClient.FollowEnd) in
                var count = 0
                let end = try client.followEventLines { _ in
                    count += 1
                    return .keepReading
                }
                return (count, end)
            }
        }
        #expect(await provider.hub.wait { $0.subscriberCount == 1 })
        provider.hub.publish(.memberChange("gw-raval", "alive", "failed", at: 5))
        try await Task.sleep(for: .milliseconds(100))
        await server.stop()
        let (count, end) = try await follower.value
        #expect(count == 1)
        #expect(end == .closedByDaemon)
        #expect(await provider.hub.wait { $0.subscriberCount == 0 })
    }

    @Test func eventStreamIsChunkedNDJSONOnTheWire() async throws {
        let provider = FakeProvider()
        try await withServer(provider: provider) { server, _ in
            let fd = try connectRaw(to: server.socketPath)
            defer { close(fd) }
            let request = Array("GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
            #expect(request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) } == request.count)
            // The head arrives before any event.
            let head = String(decoding: try await onThread { try readSome(fd) }, as: UTF8.self)
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head.contains("Content-Type: application/x-ndjson\r\n"))
            #expect(head.lowercased().contains("transfer-encoding: chunked\r\n"))
            #expect(head.contains("X-Overlayd-Version: 1.2.3\r\n"))
            #expect(!head.lowercased().contains("content-length"))
            #expect(head.hasSuffix("\r\n\r\n"))

            #expect(await provider.hub.wait { $0.subscriberCount == 1 })
            let record = EventRecord.quorum(QuorumEvent(hasQuorum: true, reachable: 3, viewSize: 5), atMs: 42)
            provider.hub.publish(record)
            var line = try APISchema.makeLineEncoder().encode(record)
            line.append(0x0A)
            let chunk = String(decoding: try await onThread { try readSome(fd) }, as: UTF8.self)
            #expect(chunk == String(line.count, radix: 16) + "\r\n" + String(decoding: line, as: UTF8.self) + "\r\n")
        }
    }

    @Test func eventStreamEndsWithTheTerminatingChunkWhenTheNodeFinishes() async throws {
        let provider = FakeProvider()
        try await withServer(provider: provider) { server, client in
            let follower = Task {
                try await onThread { try client.followEventLines { _ in .keepReading } }
            }
            #expect(await provider.hub.wait { $0.subscriberCount == 1 })
            provider.hub.finishAll()
            #expect(try await follower.value == .closedByDaemon)
            // The server still answers afterwards.
            let status = try await onThread { try client.status() }
            #expect(status.version == "1.2.3")
        }
    }

    @Test func followedStreamOutlivesTheIdleTimeoutWhileAQuietConnectionDoesNot() async throws {
        let provider = FakeProvider()
        let directory = try makeTemporaryDirectory()
        defer { removeTemporaryDirectory(directory) }
        let server = APIServer(
            socketPath: directory + "/overlayd.sock", provider: provider, version: "1", idleTimeout: .milliseconds(200))
        try await server.start()
        let client = LocalAPIClient(socketPath: server.socketPath)
        let quiet = try connectRaw(to: server.socketPath)
        defer { close(quiet) }
        let follower = Task {
            try await onThread { () throws -> [EventRecord] in
                var events: [EventRecord] = []
                try client.followEvents { event, _ in
                    events.append(event)
                    return events.count == 2 ? .stop : .keepReading
                }
                return events
            }
        }
        #expect(await provider.hub.wait { $0.subscriberCount == 1 })
        provider.hub.publish(.memberChange("a", nil, "alive", at: 1))
        try await Task.sleep(for: .milliseconds(700))
        // The quiet connection was closed; the stream was not.
        #expect(try await onThread { try readSome(quiet) }.isEmpty)
        #expect(provider.hub.subscriberCount == 1)
        provider.hub.publish(.memberChange("b", nil, "alive", at: 2))
        #expect(try await follower.value.map(\.member?.name) == ["a", "b"])
        await server.stop()
    }
}
