import Foundation
import OverlayCore
import Prometheus

/// The daemon's metrics, in a Prometheus registry of its own.
///
/// Each runtime has its own registry (no global bootstrap), so several nodes can run in one
/// process in tests. `GET /metrics` serves ``render()`` (on the API socket, and on
/// `api.metrics_address` when set). Conventions (checked by `promtool check metrics` in a
/// test): every metric has help text; counters end in `_total`; units are in the name in base
/// units (`_bytes`, `_seconds`); labels take a bounded set of values (reject reasons, member
/// states, outcomes; gateway names at most ``GatewayMetrics/maxGatewayLabels``).
///
/// | name | type | meaning |
/// | --- | --- | --- |
/// | `overlayd_build_info{version}` | gauge | always 1; the daemon's version as a label |
/// | `overlayd_start_time_seconds` | gauge | when the daemon started, Unix time |
/// | `overlayd_datagrams_sent_total`, `_received_total` | counter | UDP datagrams |
/// | `overlayd_gossip_sent_bytes_total`, `overlayd_gossip_received_bytes_total` | counter | UDP payload bytes |
/// | `overlayd_items_verified_total` | counter | signed items whose signature was checked |
/// | `overlayd_items_duplicate_total` | counter | items recognised as already verified (no second check) |
/// | `overlayd_send_errors_total` | counter | datagrams the kernel refused to send |
/// | `overlayd_datagrams_dropped_total{stage}` | counter | datagrams that reached the UDP socket but never the agent: `socket_buffer` (the kernel's receive buffer was full), `receive_queue` (the queue between socket and agent was full), `sender_rate` (the sender was over `security.sender_rate_per_second`, dropped before the queue) |
/// | `overlayd_udp_receive_buffer_bytes` | gauge | the UDP receive buffer the kernel granted, as it reports it (Linux: twice the size set) |
/// | `overlayd_rejected_total{reason}` | counter | datagrams and items refused, by reason |
/// | `overlayd_members{state}` | gauge | members by state, this node included |
/// | `overlayd_local_health_score` | gauge | Lifeguard's local health score (0 is healthy) |
/// | `overlayd_suspicious_members` | gauge | admitted keys with repeated verification failures (``OverlayCore/VerificationFailures``; `GET /v1/status` names them) |
/// | `overlayd_incarnation` | gauge | this node's incarnation |
/// | `overlayd_dissemination_queue_items` | gauge | items waiting to be piggybacked |
/// | `overlayd_view_epoch`, `overlayd_view_members`, `overlayd_view_reachable` | gauge | the quorum view |
/// | `overlayd_quorum` | gauge | 1 while this node's side holds a majority of the view |
/// | `overlayd_config_reloads_total{result}` | counter | reloads, `ok` or `refused` |
/// | gateway selection | | see ``GatewayMetrics`` |
public final class NodeMetrics: Sendable {
    /// The registry behind `/metrics`.
    public let registry: PrometheusCollectorRegistry

    let datagramsSent: MetricCounter
    let datagramsReceived: MetricCounter
    let bytesSent: MetricCounter
    let bytesReceived: MetricCounter
    let itemsVerified: MetricCounter
    let itemsDuplicate: MetricCounter
    let sendErrors: MetricCounter
    /// Datagrams dropped between the wire and the agent, by stage (``DropStage``).
    let datagramsDropped: [DropStage: MetricCounter]
    let receiveBuffer: MetricGauge
    let rejected: [RejectReason: MetricCounter]
    let membersByState: [MemberState: MetricGauge]
    let localHealth: MetricGauge
    /// Keys reported by ``OverlayCore/VerificationFailures`` now: no label per key (the API
    /// names them), so the series stay bounded whatever the keyring holds.
    let suspiciousMembers: MetricGauge
    let incarnation: MetricGauge
    let queuedItems: MetricGauge
    /// Gateway selection: probes, rounds, shared estimates, received gateway items.
    let gateway: GatewayMetrics
    let viewEpoch: MetricGauge
    let viewSize: MetricGauge
    let hasQuorum: MetricGauge
    let reachable: MetricGauge
    let reloads: [String: MetricCounter]

    /// Creates every metric, so that all of them (every reject reason included) appear from the start.
    ///
    /// - Parameter version: the daemon's version, the label of `overlayd_build_info`.
    public init(version: String = "unknown") {
        let r = PrometheusCollectorRegistry()
        registry = r
        MetricGauge(r, "overlayd_build_info", "Always 1; the daemon's version is its label.", labels: [("version", version)]).record(1)
        MetricGauge(r, "overlayd_start_time_seconds", "When the daemon started, in seconds since the Unix epoch.")
            .record(Date().timeIntervalSince1970.rounded())
        datagramsSent = MetricCounter(r, "overlayd_datagrams_sent_total", "UDP datagrams sent.")
        datagramsReceived = MetricCounter(r, "overlayd_datagrams_received_total", "UDP datagrams accepted: every check passed, the signature verified.")
        bytesSent = MetricCounter(r, "overlayd_gossip_sent_bytes_total", "UDP payload bytes sent.")
        bytesReceived = MetricCounter(r, "overlayd_gossip_received_bytes_total", "UDP payload bytes received.")
        itemsVerified = MetricCounter(r, "overlayd_items_verified_total", "Signed items whose Ed25519 signature was verified.")
        itemsDuplicate = MetricCounter(r, "overlayd_items_duplicate_total", "Items recognised as already verified and not checked again.")
        sendErrors = MetricCounter(r, "overlayd_send_errors_total", "Datagrams the kernel refused to send.")
        var dropped = [DropStage: MetricCounter]()
        for stage in DropStage.allCases {
            dropped[stage] = MetricCounter(
                r, "overlayd_datagrams_dropped_total",
                "UDP datagrams that reached the socket but not the agent, by where they were dropped.",
                labels: [("stage", stage.rawValue)])
        }
        datagramsDropped = dropped
        receiveBuffer = MetricGauge(
            r, "overlayd_udp_receive_buffer_bytes", "The UDP receive buffer the kernel granted, as it reports it (Linux doubles the size set).")
        var rejected = [RejectReason: MetricCounter]()
        for reason in RejectReason.allCases {
            rejected[reason] = MetricCounter(
                r, "overlayd_rejected_total", "Datagrams and items refused, by reason.", labels: [("reason", reason.rawValue)])
        }
        self.rejected = rejected
        var members = [MemberState: MetricGauge]()
        for state in MemberState.allCases {
            members[state] = MetricGauge(r, "overlayd_members", "Members by state, this node included.", labels: [("state", state.rawValue)])
        }
        membersByState = members
        localHealth = MetricGauge(r, "overlayd_local_health_score", "Lifeguard local health score; 0 is healthy, higher means this node is slow.")
        suspiciousMembers = MetricGauge(
            r, "overlayd_suspicious_members", "Admitted keys whose datagrams or relayed items failed verification repeatedly (GET /v1/status names them).")
        incarnation = MetricGauge(r, "overlayd_incarnation", "This node's SWIM incarnation number.")
        queuedItems = MetricGauge(r, "overlayd_dissemination_queue_items", "Items waiting to be piggybacked on datagrams.")
        gateway = GatewayMetrics(registry: r)
        viewEpoch = MetricGauge(r, "overlayd_view_epoch", "Epoch of the committed quorum view.")
        viewSize = MetricGauge(r, "overlayd_view_members", "Members of the committed quorum view.")
        hasQuorum = MetricGauge(r, "overlayd_quorum", "1 while this node's side of the network holds a majority of the view, else 0.")
        reachable = MetricGauge(r, "overlayd_view_reachable", "Members of the view this node can reach, itself included.")
        var reloads: [String: MetricCounter] = [:]
        for result in ["ok", "refused"] {
            reloads[result] = MetricCounter(
                r, "overlayd_config_reloads_total", "Reloads of the config file and keyring, by result.", labels: [("result", result)])
        }
        self.reloads = reloads
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String { registry.emitToString() }

    /// Follows the UDP transport's figures: its drops and the receive buffer granted.
    ///
    /// - Parameter statistics: the transport's totals (``UDPTransport/statistics()``).
    func record(_ statistics: TransportStatistics) {
        datagramsDropped[.socketBuffer]?.mirror(statistics.kernelDrops)
        datagramsDropped[.receiveQueue]?.mirror(statistics.queueDrops)
        datagramsDropped[.senderRate]?.mirror(statistics.senderRateDrops)
        receiveBuffer.record(statistics.receiveBufferBytes)
    }
}

/// Where a received datagram was dropped before the agent saw it, the label of
/// `overlayd_datagrams_dropped_total`.
public enum DropStage: String, CaseIterable, Sendable {
    /// The kernel dropped it: the socket's receive buffer was full.
    case socketBuffer = "socket_buffer"
    /// The transport dropped it: the queue between the socket and the agent was full.
    case receiveQueue = "receive_queue"
    /// The transport dropped it before the queue: its sender was over the per-sender rate
    /// (``SenderRateGate``).
    case senderRate = "sender_rate"
}
