import NIOConcurrencyHelpers
import OverlayCore
import Prometheus

/// The gateway selection's metrics, registered in the node's own registry (``NodeMetrics``).
///
/// | name | type | meaning |
/// | --- | --- | --- |
/// | `overlayd_probes_total{gateway,result}` | counter | HTTP probes this node ran, by gateway and result (`ok` or a failure label); at most ``maxGatewayLabels`` gateway names, the rest as `other` |
/// | `overlayd_selection_rounds_total` | counter | selection rounds decided |
/// | `overlayd_shared_estimates_used_total` | counter | candidates judged by the cloud's shared estimates instead of a probe |
/// | `overlayd_selection_candidates_total{basis}` | counter | candidates judged, by basis: `probed`, `shared`, `unmeasured` |
/// | `overlayd_selection_changes_total` | counter | rounds that changed the gateway in use |
/// | `overlayd_gateway_items_total{outcome}` | counter | gateway items received, by outcome (`accepted`, `duplicate`, `stale`, `non_member`, ...) |
public final class GatewayMetrics: Sendable {
    /// The most gateway names used as label values; probes of any other gateway count under
    /// `gateway="other"`. Gateways are announced by gossip, so without a bound a member could
    /// grow the scrape without limit. 64 is the selector's limit of gateways per observer.
    public static let maxGatewayLabels = 64

    private let registry: PrometheusCollectorRegistry
    let selectionRounds: MetricCounter
    let sharedEstimatesUsed: MetricCounter
    let selectionChanges: MetricCounter
    private let candidates: [String: MetricCounter]
    private let items: [GatewayGossip.ItemOutcome: MetricCounter]
    private let probes = NIOLockedValueBox<[String: MetricCounter]>([:])
    private let gatewayLabels = NIOLockedValueBox<Set<String>>([])

    /// Registers the metrics with `registry`, so that all but the per-gateway probe counters
    /// appear from the start.
    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        selectionRounds = MetricCounter(registry, "overlayd_selection_rounds_total", "Gateway selection rounds decided.")
        sharedEstimatesUsed = MetricCounter(
            registry, "overlayd_shared_estimates_used_total", "Candidates judged by the cloud's shared measurements instead of a probe.")
        selectionChanges = MetricCounter(registry, "overlayd_selection_changes_total", "Rounds that changed the gateway in use.")
        var candidates: [String: MetricCounter] = [:]
        for basis in ["probed", "shared", "unmeasured"] {
            candidates[basis] = MetricCounter(
                registry, "overlayd_selection_candidates_total", "Candidates judged, by what they were judged on.", labels: [("basis", basis)])
        }
        self.candidates = candidates
        var items: [GatewayGossip.ItemOutcome: MetricCounter] = [:]
        for outcome in GatewayGossip.ItemOutcome.allCases {
            items[outcome] = MetricCounter(
                registry, "overlayd_gateway_items_total", "Gateway items received, by outcome.", labels: [("outcome", outcome.rawValue)])
        }
        self.items = items
    }

    /// Counts one probe of `gateway` with `result` (`ok` or a ``ProbeFailure/label``).
    func countProbe(gateway: String, result: String) {
        let label = gatewayLabels.withLockedValue { labels in
            if labels.contains(gateway) { return gateway }
            guard labels.count < Self.maxGatewayLabels else { return "other" }
            labels.insert(gateway)
            return gateway
        }
        let key = label + "\u{0}" + result
        let counter = probes.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = MetricCounter(
                registry, "overlayd_probes_total", "HTTP probes this node ran through gateways' proxies, by gateway and result.",
                labels: [("gateway", label), ("result", result)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// Counts one candidate judged on `basis`.
    func countCandidate(basis: String) { candidates[basis]?.increment() }

    /// Sets the received-item counters to the core's totals.
    func recordItems(_ totals: [GatewayGossip.ItemOutcome: Int]) {
        for (outcome, counter) in items { counter.mirror(totals[outcome] ?? 0) }
    }
}
