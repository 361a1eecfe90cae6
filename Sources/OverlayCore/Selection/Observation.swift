/// Why a probe through a gateway's proxy did not deliver the probe object.
///
/// A failed probe is an observation too: it is gossiped and counted (as
/// ``SelectorSettings/failurePenalty``) in the gateway's estimate. ``label`` is stable, for
/// metrics and the wire.
public enum ProbeFailure: Hashable, Sendable, CustomStringConvertible {
    /// No complete answer within the probe timeout.
    case timeout
    /// The TCP connection to the proxy could not be opened (refused, unreachable, no route).
    case connectFailed
    /// The proxy or the origin answered with a status other than 200.
    case httpStatus(Int)
    /// The body ended before the announced or expected length.
    case shortBody
    /// The proxy refused to forward the request (access denied, 403/407 from the proxy itself).
    case proxyRefused
    /// The answer was not HTTP at all (garbage from the proxy, or a proxy that is something else).
    case badResponse
    /// A failure kind this version does not know, by its wire label: a newer node's. It still
    /// counts as a failed probe.
    case other(String)

    /// A stable lowercase label: `timeout`, `connect_failed`, `http_status`, `short_body`,
    /// `proxy_refused`, `bad_response`, or `other`.
    public var label: String {
        switch self {
        case .timeout: "timeout"
        case .connectFailed: "connect_failed"
        case .httpStatus: "http_status"
        case .shortBody: "short_body"
        case .proxyRefused: "proxy_refused"
        case .badResponse: "bad_response"
        case .other: "other"
        }
    }

    /// The form on the wire (`GatewayObservation.failure`): the label, with the status for
    /// ``httpStatus(_:)`` (`http_status:502`) and the original text for ``other(_:)``.
    public var wireLabel: String {
        switch self {
        case .httpStatus(let status): "http_status:\(status)"
        case .other(let text): text
        default: label
        }
    }

    /// Reads a wire label; `nil` for the empty string (no failure). An unknown label becomes
    /// ``other(_:)``, so a failure kind added by a newer version still counts as a failure.
    public init?(wireLabel text: String) {
        switch text {
        case "": return nil
        case "timeout": self = .timeout
        case "connect_failed": self = .connectFailed
        case "short_body": self = .shortBody
        case "proxy_refused": self = .proxyRefused
        case "bad_response": self = .badResponse
        default:
            if text.hasPrefix("http_status:"), let status = Int(text.dropFirst("http_status:".count)),
               (100...999).contains(status) {
                self = .httpStatus(status)
            } else {
                self = .other(text)
            }
        }
    }

    public var description: String {
        switch self {
        case .timeout: "timed out"
        case .connectFailed: "could not connect to the proxy"
        case .httpStatus(let status): "HTTP status \(status)"
        case .shortBody: "the body was cut short"
        case .proxyRefused: "the proxy refused the request"
        case .badResponse: "the answer was not HTTP"
        case .other(let text): "failed (\(text))"
        }
    }
}

/// One measurement of one gateway by one node: an HTTP GET of a small object through the
/// gateway's proxy (RIMO 3.2: content latency is the metric that tracks what users feel).
///
/// Observations are signed by their observer and gossiped, so every node can use every other
/// node's measurements (``ObservationStore``). A success carries ``contentLatency``; a failure
/// carries ``failure`` and no latency.
public struct Observation: Hashable, Sendable, CustomStringConvertible {
    /// The node that measured.
    public var observer: NodeID
    /// The gateway measured.
    public var gateway: GatewayID
    /// Time from sending the request to the last byte of the probe object; `nil` on failure.
    public var contentLatency: Duration?
    /// Time from sending the request to the first byte of the answer, if one arrived.
    public var timeToFirstByte: Duration?
    /// Why the probe failed; `nil` on success.
    public var failure: ProbeFailure?
    /// Bytes of the probe object received.
    public var bytes: Int
    /// The observer's hop count to the gateway when it measured, if known; lets another node
    /// adjust the latency for its own distance (``SelectorSettings/latencyPerHop``).
    public var hops: Int?
    /// When the probe was taken, on the observer's clock (the daemon records when it finished,
    /// the wire's `taken_at_ms`; the two differ by at most the probe timeout).
    public var takenAt: Instant
    /// The observer's sequence number: a newer observation of the same gateway by the same
    /// observer has a larger one, so replays and reordered copies are recognised.
    public var sequence: UInt64

    /// Creates an observation. Exactly one of `contentLatency` and `failure` should be set;
    /// ``isWellFormed`` checks it and the store refuses the others.
    public init(
        observer: NodeID, gateway: GatewayID, contentLatency: Duration?, timeToFirstByte: Duration? = nil,
        failure: ProbeFailure? = nil, bytes: Int = 0, hops: Int? = nil, takenAt: Instant, sequence: UInt64
    ) {
        self.observer = observer
        self.gateway = gateway
        self.contentLatency = contentLatency
        self.timeToFirstByte = timeToFirstByte
        self.failure = failure
        self.bytes = bytes
        self.hops = hops
        self.takenAt = takenAt
        self.sequence = sequence
    }

    /// A successful probe.
    public static func success(
        observer: NodeID, gateway: GatewayID, contentLatency: Duration, timeToFirstByte: Duration? = nil,
        bytes: Int = 0, hops: Int? = nil, takenAt: Instant, sequence: UInt64
    ) -> Observation {
        Observation(
            observer: observer, gateway: gateway, contentLatency: contentLatency, timeToFirstByte: timeToFirstByte,
            failure: nil, bytes: bytes, hops: hops, takenAt: takenAt, sequence: sequence)
    }

    /// A failed probe.
    public static func failure(
        _ failure: ProbeFailure, observer: NodeID, gateway: GatewayID, timeToFirstByte: Duration? = nil,
        bytes: Int = 0, hops: Int? = nil, takenAt: Instant, sequence: UInt64
    ) -> Observation {
        Observation(
            observer: observer, gateway: gateway, contentLatency: nil, timeToFirstByte: timeToFirstByte,
            failure: failure, bytes: bytes, hops: hops, takenAt: takenAt, sequence: sequence)
    }

    /// Whether the probe delivered the object.
    public var succeeded: Bool { failure == nil && contentLatency != nil }

    /// Whether the fields are consistent: exactly one of latency and failure, no negative
    /// durations, byte count or hop count.
    public var isWellFormed: Bool {
        guard (contentLatency == nil) != (failure == nil) else { return false }
        if let latency = contentLatency, latency < .zero { return false }
        if let ttfb = timeToFirstByte, ttfb < .zero { return false }
        if let hops, hops < 0 { return false }
        return bytes >= 0
    }

    public var description: String {
        let result = contentLatency.map { "\($0.milliseconds)ms" } ?? (failure?.description ?? "no result")
        return "\(observer.shortForm)→\(gateway) \(result) at \(takenAt) #\(sequence)"
    }
}
