import Foundation
import OverlayWire

/// Why a gateway item (an observation, a gateway announcement or a selection announcement)
/// could not be read. ``description`` is one sentence for the debug log.
public struct GatewayItemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the item.
    public let description: String

    /// Creates an error with its sentence.
    public init(_ description: String) { self.description = description }
}

/// Rules for gateway names on the wire.
public enum GatewayName {
    /// The longest gateway name accepted, in UTF-8 bytes. 128 bytes hold any `[v6]:port`
    /// endpoint and a readable name, and keep an observation far below the datagram budget.
    public static let maxBytes = 128

    /// Checks a gateway name read from the wire or the config file.
    ///
    /// - Returns: the name, or why it is refused (empty, too long, control characters).
    public static func check(_ text: String) -> Result<GatewayID, GatewayItemError> {
        guard !text.isEmpty else { return .failure(GatewayItemError("the gateway name is empty")) }
        guard text.utf8.count <= maxBytes else {
            return .failure(GatewayItemError("the gateway name is \(text.utf8.count) bytes long, more than \(maxBytes)"))
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return .failure(GatewayItemError("the gateway name has control characters"))
        }
        return .success(GatewayID(text))
    }
}

/// Maps an ``Observation`` to and from its wire form, `Overlayd_V1_GatewayObservation`
/// (item kind 11).
///
/// The observer is the item's origin and is not repeated in the message: an observation is
/// only ever valid from the node that made it, and the origin's signature proves who that is.
/// Latencies travel in microseconds (`uint32`, so at most about 71 minutes; longer values are
/// clamped), `0` meaning "none": a successful probe always carries a content latency of at
/// least 1 µs.
public enum ObservationCodec {
    /// The wire message for `observation` (the observer becomes the item's origin).
    public static func encode(_ observation: Observation) -> Overlayd_V1_GatewayObservation {
        var message = Overlayd_V1_GatewayObservation()
        message.gateway = observation.gateway.rawValue
        message.sequence = observation.sequence
        message.takenAtMs = UInt64(max(0, observation.takenAt.milliseconds))
        if let latency = observation.contentLatency, observation.failure == nil {
            message.contentLatencyUs = max(1, microseconds(latency))
        }
        if let ttfb = observation.timeToFirstByte { message.ttfbUs = microseconds(ttfb) }
        message.failure = observation.failure?.wireLabel ?? ""
        message.bytes = UInt64(max(0, observation.bytes))
        if let hops = observation.hops, hops >= 0 { message.hops = UInt32(clamping: hops) }
        return message
    }

    /// The item kind carrying `observation`, ready to sign.
    public static func kind(_ observation: Observation) -> Overlayd_V1_Item.OneOf_Kind {
        .observation(encode(observation))
    }

    /// Reads an observation made by `observer` (the item's origin).
    ///
    /// Refused: an empty, oversized or control-character gateway name; sequence 0; no time;
    /// a success without a content latency. A failure label this version does not know is
    /// kept as ``ProbeFailure/other(_:)``.
    ///
    /// - Returns: the observation, or why it is malformed.
    public static func decode(
        _ message: Overlayd_V1_GatewayObservation, observer: NodeID
    ) -> Result<Observation, GatewayItemError> {
        let gateway: GatewayID
        switch GatewayName.check(message.gateway) {
        case .success(let id): gateway = id
        case .failure(let error): return .failure(error)
        }
        guard message.sequence > 0 else { return .failure(GatewayItemError("the observation has sequence 0")) }
        guard message.takenAtMs > 0, message.takenAtMs < UInt64(Int64.max) else {
            return .failure(GatewayItemError("the observation has no valid time"))
        }
        guard message.bytes < UInt64(Int.max) else { return .failure(GatewayItemError("the byte count is out of range")) }
        let failure = ProbeFailure(wireLabel: message.failure)
        if failure == nil, message.contentLatencyUs == 0 {
            return .failure(GatewayItemError("the observation has neither a content latency nor a failure"))
        }
        return .success(Observation(
            observer: observer, gateway: gateway,
            contentLatency: failure == nil ? .microseconds(Int64(message.contentLatencyUs)) : nil,
            timeToFirstByte: message.ttfbUs == 0 ? nil : .microseconds(Int64(message.ttfbUs)),
            failure: failure, bytes: Int(message.bytes), hops: message.hasHops ? Int(message.hops) : nil,
            takenAt: Instant(milliseconds: Int64(message.takenAtMs)), sequence: message.sequence))
    }

    private static func microseconds(_ duration: Duration) -> UInt32 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        let total = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !total.overflow else { return UInt32.max }
        return UInt32(clamping: total.partialValue + attoseconds / 1_000_000_000_000)
    }
}
