import NIOConcurrencyHelpers
import Prometheus

/// A Prometheus counter (a `_total` that only grows), registered with its help text.
public final class MetricCounter: Sendable {
    private let counter: Prometheus.Counter
    private let mirrored = NIOLockedValueBox<Int>(0)

    init(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = []) {
        precondition(name.hasSuffix("_total"), "a counter's name ends in _total: \(name)")
        counter = registry.makeCounter(name: name, labels: labels, help: help)
    }

    /// Adds one.
    func increment() { counter.increment() }

    /// Adds `amount` (not negative).
    func increment(by amount: Int) { counter.increment(by: Int64(max(0, amount))) }

    /// Follows a total that the core keeps: adds what it grew by since the last call. A total
    /// that went down (it never does) is ignored, so the counter never decreases.
    func mirror(_ total: Int) {
        let delta = mirrored.withLockedValue { last in
            defer { last = max(last, total) }
            return total - last
        }
        if delta > 0 { counter.increment(by: Int64(delta)) }
    }
}

/// A Prometheus gauge, registered with its help text.
public final class MetricGauge: Sendable {
    private let gauge: Prometheus.Gauge

    init(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = []) {
        precondition(!name.hasSuffix("_total"), "only counters end in _total: \(name)")
        gauge = registry.makeGauge(name: name, labels: labels, help: help)
    }

    /// Sets the value.
    func record(_ value: Int) { gauge.set(to: Double(value)) }

    /// Sets the value.
    func record(_ value: Double) { gauge.set(to: value) }
}
