import CoreMetrics
import Foundation
import OverlayCore
import Prometheus

/// The daemon's metrics, through swift-metrics into a Prometheus registry of its own.
///
/// Each runtime has its own registry (no global bootstrap), so several nodes can run in one
/// process in tests. `GET /metrics` serves ``render()``. Names follow Prometheus conventions;
/// `Docs/operations.md` lists them.
public final class NodeMetrics: Sendable {
    /// The registry behind `/metrics`.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    let datagramsSent: CoreMetrics.Counter
    let datagramsReceived: CoreMetrics.Counter
    let bytesSent: CoreMetrics.Counter
    let bytesReceived: CoreMetrics.Counter
    let itemsVerified: CoreMetrics.Counter
    let itemsDuplicate: CoreMetrics.Counter
    let sendErrors: CoreMetrics.Counter
    let rejected: [RejectReason: CoreMetrics.Counter]
    let membersByState: [MemberState: CoreMetrics.Gauge]
    let localHealth: CoreMetrics.Gauge
    let incarnation: CoreMetrics.Gauge
    let queuedItems: CoreMetrics.Gauge
    /// Gateway selection: probes, rounds, shared estimates, received gateway items.
    let gateway: GatewayMetrics
    let viewEpoch: CoreMetrics.Gauge
    let viewSize: CoreMetrics.Gauge
    let hasQuorum: CoreMetrics.Gauge
    let reachable: CoreMetrics.Gauge

    /// Creates every metric, so that all of them (every reject reason included) appear from the start.
    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        datagramsSent = CoreMetrics.Counter(label: "overlayd_datagrams_sent_total", factory: factory)
        datagramsReceived = CoreMetrics.Counter(label: "overlayd_datagrams_received_total", factory: factory)
        bytesSent = CoreMetrics.Counter(label: "overlayd_gossip_bytes_sent_total", factory: factory)
        bytesReceived = CoreMetrics.Counter(label: "overlayd_gossip_bytes_received_total", factory: factory)
        itemsVerified = CoreMetrics.Counter(label: "overlayd_items_verified_total", factory: factory)
        itemsDuplicate = CoreMetrics.Counter(label: "overlayd_items_duplicate_total", factory: factory)
        sendErrors = CoreMetrics.Counter(label: "overlayd_send_errors_total", factory: factory)
        var rejected = [RejectReason: CoreMetrics.Counter]()
        for reason in RejectReason.allCases {
            rejected[reason] = CoreMetrics.Counter(label: "overlayd_rejected_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.rejected = rejected
        var members = [MemberState: CoreMetrics.Gauge]()
        for state in MemberState.allCases {
            members[state] = CoreMetrics.Gauge(label: "overlayd_members", dimensions: [("state", state.rawValue)], factory: factory)
        }
        membersByState = members
        localHealth = CoreMetrics.Gauge(label: "overlayd_local_health_score", factory: factory)
        incarnation = CoreMetrics.Gauge(label: "overlayd_incarnation", factory: factory)
        queuedItems = CoreMetrics.Gauge(label: "overlayd_dissemination_queue_items", factory: factory)
        gateway = GatewayMetrics(factory: factory)
        viewEpoch = CoreMetrics.Gauge(label: "overlayd_view_epoch", factory: factory)
        viewSize = CoreMetrics.Gauge(label: "overlayd_view_members", factory: factory)
        hasQuorum = CoreMetrics.Gauge(label: "overlayd_quorum", factory: factory)
        reachable = CoreMetrics.Gauge(label: "overlayd_view_reachable", factory: factory)
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String { registry.emitToString() }
}
