import CoreMetrics
import NIOConcurrencyHelpers
import OverlayCore
import Prometheus

/// The gateway selection's metrics, registered in the node's own registry (``NodeMetrics``).
///
/// | name | type | meaning |
/// | --- | --- | --- |
/// | `overlayd_probes_total{gateway,result}` | counter | HTTP probes this node ran, by gateway and result (`ok` or a failure label) |
/// | `overlayd_selection_rounds_total` | counter | selection rounds decided |
/// | `overlayd_shared_estimates_used_total` | counter | candidates judged by the cloud's shared estimates instead of a probe |
/// | `overlayd_selection_candidates_total{basis}` | counter | candidates judged, by basis: `probed`, `shared`, `unmeasured` |
/// | `overlayd_selection_changes_total` | counter | rounds that changed the gateway in use |
/// | `overlayd_gateway_items_total{outcome}` | counter | gateway items received, by outcome (`accepted`, `duplicate`, `stale`, `non_member`, ...) |
public final class GatewayMetrics: Sendable {
    private let factory: PrometheusMetricsFactory
    let selectionRounds: CoreMetrics.Counter
    let sharedEstimatesUsed: CoreMetrics.Counter
    let selectionChanges: CoreMetrics.Counter
    private let candidates: [String: CoreMetrics.Counter]
    private let items: [GatewayGossip.ItemOutcome: CoreMetrics.Counter]
    private let probes = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])

    /// Registers the metrics with `factory`, so that all but the per-gateway probe counters
    /// appear from the start.
    init(factory: PrometheusMetricsFactory) {
        self.factory = factory
        selectionRounds = CoreMetrics.Counter(label: "overlayd_selection_rounds_total", factory: factory)
        sharedEstimatesUsed = CoreMetrics.Counter(label: "overlayd_shared_estimates_used_total", factory: factory)
        selectionChanges = CoreMetrics.Counter(label: "overlayd_selection_changes_total", factory: factory)
        var candidates: [String: CoreMetrics.Counter] = [:]
        for basis in ["probed", "shared", "unmeasured"] {
            candidates[basis] = CoreMetrics.Counter(label: "overlayd_selection_candidates_total", dimensions: [("basis", basis)], factory: factory)
        }
        self.candidates = candidates
        var items: [GatewayGossip.ItemOutcome: CoreMetrics.Counter] = [:]
        for outcome in GatewayGossip.ItemOutcome.allCases {
            items[outcome] = CoreMetrics.Counter(label: "overlayd_gateway_items_total", dimensions: [("outcome", outcome.rawValue)], factory: factory)
        }
        self.items = items
    }

    /// Counts one probe of `gateway` with `result` (`ok` or a ``ProbeFailure/label``).
    func countProbe(gateway: String, result: String) {
        let key = gateway + "\u{0}" + result
        let counter = probes.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "overlayd_probes_total", dimensions: [("gateway", gateway), ("result", result)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// Counts one candidate judged on `basis`.
    func countCandidate(basis: String) { candidates[basis]?.increment() }

    /// Sets the received-item counters to the core's totals.
    func recordItems(_ totals: [GatewayGossip.ItemOutcome: Int]) {
        for (outcome, counter) in items {
            counter.reset()
            counter.increment(by: totals[outcome] ?? 0)
        }
    }
}
