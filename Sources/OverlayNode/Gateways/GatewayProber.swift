import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import OverlayCore

/// How the prober fetches: the object, its expected size, the time limit and how many probes
/// may run at once.
public struct ProbeSettings: Sendable, Equatable {
    /// The object fetched through each gateway's proxy (`gateways.probe_url`).
    public var url: String
    /// The object's size in bytes; a shorter body is ``ProbeFailure/shortBody``. 0: any
    /// complete body (`gateways.expected_bytes`).
    public var expectedBytes: Int
    /// The whole probe's limit: connect, proxy handshake, answer and body
    /// (`gateways.probe_timeout_ms`).
    public var timeout: Duration
    /// Probes run at once (`gateways.max_concurrent_probes`); the others wait their turn.
    public var maxConcurrent: Int
    /// The most body bytes read, whatever the object: 1 MiB, so a wrong URL cannot make a probe
    /// download a large file over a radio mesh.
    public var maxBodyBytes: Int = 1 << 20

    /// Creates probe settings.
    public init(url: String, expectedBytes: Int = 0, timeout: Duration = .seconds(5), maxConcurrent: Int = 4) {
        self.url = url
        self.expectedBytes = expectedBytes
        self.timeout = timeout
        self.maxConcurrent = maxConcurrent
    }
}

/// What one probe measured.
public struct ProbeMeasurement: Sendable, Equatable {
    /// Time from sending the request (connection included) to the last byte; `nil` on failure.
    public var contentLatency: Duration?
    /// Time to the answer's head (its first bytes); `nil` when no answer came.
    public var timeToFirstByte: Duration?
    /// Why it failed; `nil` on success.
    public var failure: ProbeFailure?
    /// Body bytes received.
    public var bytes: Int
    /// What went wrong, in words, for the log line (the error, the status); `nil` on success.
    public var detail: String?

    /// Creates a measurement.
    public init(contentLatency: Duration?, timeToFirstByte: Duration?, failure: ProbeFailure?, bytes: Int, detail: String? = nil) {
        self.contentLatency = contentLatency
        self.timeToFirstByte = timeToFirstByte
        self.failure = failure
        self.bytes = bytes
        self.detail = detail
    }
}

/// The real probe of RIMO section 3.2: an HTTP GET of a small object through a gateway's HTTP
/// proxy, timing the first byte and the whole content, with a time limit and bounded
/// concurrency.
///
/// Each probe uses a fresh `HTTPClient` configured with the gateway's proxy
/// (`HTTPClient.Configuration(proxy: .server(host:port:))`) and `Connection: close`, so every
/// probe pays what a new user's first request pays: the TCP connection to the proxy, the proxy
/// handshake (async-http-client tunnels with `CONNECT`, so the proxy must allow the object's
/// port), and the fetch. `Cache-Control: no-cache` asks a caching proxy to fetch from the
/// origin, so the measurement is of the gateway's Internet path, not its cache.
///
/// A probe never throws: every failure (no proxy listening, a proxy that refuses, a garbage
/// answer, a timeout, a short body) is a ``ProbeMeasurement`` with a ``ProbeFailure``.
public final class GatewayProber: Sendable {
    /// The settings in force.
    public let settings: ProbeSettings
    private let group: any EventLoopGroup
    private let slots: ProbeSlots

    /// Creates a prober.
    ///
    /// - Parameters:
    ///   - settings: URL, size, timeout, concurrency.
    ///   - group: the event loops the HTTP clients run on; default NIO's shared group.
    public init(settings: ProbeSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.settings = settings
        self.group = group
        self.slots = ProbeSlots(limit: max(1, settings.maxConcurrent))
    }

    /// Fetches the probe object through `proxy`.
    ///
    /// Waits for a free slot first (the wait is not part of the measurement).
    public func probe(through proxy: ProxyEndpoint) async -> ProbeMeasurement {
        await slots.acquire()
        let measurement = await fetch(through: proxy)
        await slots.release()
        return measurement
    }

    private func fetch(through proxy: ProxyEndpoint) async -> ProbeMeasurement {
        let timeout = TimeAmount.milliseconds(max(1, settings.timeout.milliseconds))
        var configuration = HTTPClient.Configuration()
        configuration.proxy = .server(host: proxy.host, port: Int(proxy.port))
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: timeout, read: timeout)
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroup: group, configuration: configuration)
        let measurement = await fetch(with: client, timeout: timeout)
        try? await client.shutdown()
        return measurement
    }

    private func fetch(with client: HTTPClient, timeout: TimeAmount) async -> ProbeMeasurement {
        var request = HTTPClientRequest(url: settings.url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "overlayd-probe")
        request.headers.add(name: "Cache-Control", value: "no-cache")
        request.headers.add(name: "Pragma", value: "no-cache")
        request.headers.add(name: "Connection", value: "close")

        let clock = ContinuousClock()
        let start = clock.now
        var firstByte: Duration?
        var bytes = 0
        do {
            let response = try await client.execute(request, deadline: .now() + timeout)
            firstByte = clock.now - start
            guard response.status == .ok else {
                let status = Int(response.status.code)
                let failure: ProbeFailure = (status == 403 || status == 407) ? .proxyRefused : .httpStatus(status)
                return ProbeMeasurement(
                    contentLatency: nil, timeToFirstByte: firstByte, failure: failure, bytes: 0,
                    detail: "the answer was \(status) \(response.status.reasonPhrase)")
            }
            let declared = response.headers.first(name: "Content-Length").flatMap { Int($0) }
            for try await chunk in response.body {
                bytes += chunk.readableBytes
                if bytes >= settings.maxBodyBytes { break }
            }
            let latency = clock.now - start
            if let declared, bytes < declared, bytes < settings.maxBodyBytes {
                return ProbeMeasurement(
                    contentLatency: nil, timeToFirstByte: firstByte, failure: .shortBody, bytes: bytes,
                    detail: "\(bytes) of the \(declared) bytes announced arrived")
            }
            if settings.expectedBytes > 0, bytes < settings.expectedBytes {
                return ProbeMeasurement(
                    contentLatency: nil, timeToFirstByte: firstByte, failure: .shortBody, bytes: bytes,
                    detail: "\(bytes) of the \(settings.expectedBytes) bytes expected arrived")
            }
            return ProbeMeasurement(contentLatency: latency, timeToFirstByte: firstByte, failure: nil, bytes: bytes)
        } catch {
            let (failure, detail) = Self.classify(error)
            return ProbeMeasurement(contentLatency: nil, timeToFirstByte: firstByte, failure: failure, bytes: bytes, detail: detail)
        }
    }

    /// Maps an error of async-http-client or NIO to a failure kind and a few words.
    static func classify(_ error: any Error) -> (ProbeFailure, String) {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .httpProxyHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return (.timeout, "no complete answer in time (\(error))")
            case .proxyAuthenticationRequired:
                return (.proxyRefused, "the proxy asks for authentication (407)")
            case .invalidProxyResponse:
                return (.proxyRefused, "the proxy refused to open a tunnel to the probe object's host and port")
            case .remoteConnectionClosed:
                return (.connectFailed, "the connection to the proxy was closed before an answer came")
            case .bodyLengthMismatch:
                return (.shortBody, "the body ended before its announced length")
            case .invalidURL, .emptyHost, .emptyScheme:
                return (.badResponse, "the probe URL cannot be used (\(error))")
            default:
                return (.badResponse, "\(error)")
            }
        }
        if error is HTTPParserError {
            return (.badResponse, "the answer is not HTTP (\(error))")
        }
        if error is NIOConnectionError || error is ChannelError || error is IOError {
            return (.connectFailed, "could not connect to the proxy (\(error))")
        }
        if error is CancellationError {
            return (.timeout, "the probe was cancelled")
        }
        return (.connectFailed, "\(error)")
    }
}

/// A counting semaphore for probes: at most `limit` run at once, the others wait in order.
actor ProbeSlots {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
