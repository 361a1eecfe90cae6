import Foundation
import OverlayCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import OverlayNode

/// The HTTP prober against bad gateways on loopback: nothing listening, a proxy that refuses the
/// tunnel, a proxy that answers garbage, a proxy that never answers. Each is one failure kind
/// with a cause for the log line, never a crash or a hang.
@Suite(.serialized) struct GatewayProberTests {
    static func prober(timeout: Duration = .seconds(1)) -> GatewayProber {
        GatewayProber(settings: ProbeSettings(url: "http://127.0.0.1:9/probe.bin", expectedBytes: 4096, timeout: timeout, maxConcurrent: 2))
    }

    @Test func unreachableProxyIsAConnectFailure() async {
        let port = FakeProxy.unusedPort()
        let clock = ContinuousClock()
        let start = clock.now
        let measurement = await Self.prober().probe(through: ProxyEndpoint(host: "127.0.0.1", port: port))
        #expect(measurement.failure == .connectFailed || measurement.failure == .timeout, "\(measurement)")
        #expect(measurement.contentLatency == nil)
        #expect(measurement.detail?.isEmpty == false)
        // Bounded by the probe timeout (1 s) with room for a loaded machine: it must not hang.
        #expect(clock.now - start < .seconds(30))
    }

    @Test func proxyThatRefusesTheTunnelIsProxyRefused() async throws {
        let proxy = try FakeProxy(answer: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        defer { proxy.stop() }
        let measurement = await Self.prober().probe(through: ProxyEndpoint(host: "127.0.0.1", port: proxy.port))
        #expect(measurement.failure == .proxyRefused, "\(measurement)")
    }

    @Test func garbageAnswerIsAFailureWithACause() async throws {
        let proxy = try FakeProxy(answer: "\u{0}\u{1}this is not HTTP at all\r\n\r\n")
        defer { proxy.stop() }
        let measurement = await Self.prober().probe(through: ProxyEndpoint(host: "127.0.0.1", port: proxy.port))
        let failure = try #require(measurement.failure, "\(measurement)")
        // async-http-client drops a tunnel whose answer does not parse, so a garbage answer
        // usually surfaces as the connection closing before an answer.
        #expect([.badResponse, .proxyRefused, .connectFailed].contains(failure), "\(measurement)")
        #expect(measurement.detail?.isEmpty == false)
    }

    @Test func silentProxyTimesOut() async throws {
        let proxy = try FakeProxy(answer: nil)
        defer { proxy.stop() }
        let clock = ContinuousClock()
        let start = clock.now
        let measurement = await Self.prober(timeout: .milliseconds(500)).probe(through: ProxyEndpoint(host: "127.0.0.1", port: proxy.port))
        #expect(measurement.failure == .timeout, "\(measurement)")
        // The proxy never answers: the probe must end by its timeout, not hang (room for load).
        #expect(clock.now - start < .seconds(30))
    }

    @Test func errorsMapToFailureKinds() {
        #expect(GatewayProber.classify(CancellationError()).0 == .timeout)
        #expect(GatewayProber.classify(FakeProxy.Failure()).0 == .connectFailed)
    }
}

/// A TCP server on 127.0.0.1 that reads a request and answers `answer` (or nothing, holding the
/// connection), then closes: a stand-in for a broken proxy.
final class FakeProxy: @unchecked Sendable {
    struct Failure: Error {}

    let port: UInt16
    private let fd: Int32
    private let thread: Thread

    init(answer: String?) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure() }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw Failure() }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        self.fd = fd
        let listener = fd
        thread = Thread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = read(client, &buffer, buffer.count)
                if let answer {
                    _ = answer.utf8CString.withUnsafeBufferPointer { write(client, $0.baseAddress, $0.count - 1) }
                    close(client)
                } else {
                    // Hold the connection open without answering, as a hung proxy would.
                    Thread.sleep(forTimeInterval: 3)
                    close(client)
                }
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// A loopback TCP port nothing listens on (bound, then released).
    static func unusedPort() -> UInt16 {
        guard let server = try? FakeProxy(answer: nil) else { return 1 }
        let port = server.port
        server.stop()
        return port
    }
}
