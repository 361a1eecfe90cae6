import OverlayCore
import Testing

/// Builders for the selection tests: nodes, gateways, observations, and a shell stand-in that
/// "probes" from a latency table.
enum SelectionFixtures {
    static let start = Instant(milliseconds: 1_700_000_000_000)

    /// Node `index` (0-254): a key whose first byte is `0xC0 ^ index`, distinct per index.
    static func node(_ index: Int) -> NodeID {
        precondition(index >= 0 && index < 255)
        let bytes = (0..<32).map { position -> UInt8 in
            position == 0 ? UInt8(index) : UInt8(truncatingIfNeeded: 0xC0 &+ index &* 13 &+ position &* 3)
        }
        return NodeID(bytes: bytes)!
    }

    /// A gateway named `name`, its proxy at `name:3128`.
    static func gateway(_ name: String, hops: Int? = nil, capacity: Int? = nil, routeKey: String? = nil) -> Gateway {
        Gateway(id: GatewayID(name), proxy: ProxyEndpoint(host: name, port: 3128), capacity: capacity, hops: hops, routeKey: routeKey)
    }

    static func ok(
        _ observer: NodeID, _ gateway: GatewayID, ms: Int64, at time: Instant, hops: Int? = nil, sequence: UInt64 = 1
    ) -> Observation {
        .success(observer: observer, gateway: gateway, contentLatency: .milliseconds(ms), hops: hops, takenAt: time, sequence: sequence)
    }

    static func failed(
        _ observer: NodeID, _ gateway: GatewayID, _ failure: ProbeFailure = .timeout, at time: Instant, sequence: UInt64 = 1
    ) -> Observation {
        .failure(failure, observer: observer, gateway: gateway, takenAt: time, sequence: sequence)
    }

    /// Feeds `selector` fresh observations of every gateway in `latencies` by `observers`
    /// distinct other nodes (indices 200...).
    static func share(
        _ selector: inout GatewaySelector, _ latencies: [GatewayID: Int64], observers: Int = 3, at time: Instant,
        sequence: UInt64 = 1
    ) {
        for gateway in latencies.keys.sorted() {
            for index in 0..<observers {
                let outcome = selector.receive(
                    ok(node(200 + index), gateway, ms: latencies[gateway]!, at: time, sequence: sequence), now: time)
                precondition(outcome == .inserted || outcome == .replaced, "\(outcome)")
            }
        }
    }

    /// Plays the shell: probes every gateway the round asks for, from `latencies` (`nil` or a
    /// missing entry: the probe times out), and completes the round.
    static func complete(
        _ selector: inout GatewaySelector, _ round: SelectionRound, latencies: [GatewayID: Int64], at time: Instant
    ) -> SelectionDecision {
        for gateway in round.probes {
            let result = latencies[gateway.id].map {
                selector.makeObservation(of: gateway.id, contentLatency: .milliseconds($0), bytes: 1024, now: time)
            } ?? selector.makeObservation(of: gateway.id, contentLatency: nil, failure: .timeout, now: time)
            selector.receive(result, now: time)
        }
        return selector.completeRound(round, now: time)
    }

    /// Runs a round that must need no probe (every candidate judged by shared data).
    static func sharedOnlyRound(
        _ selector: inout GatewaySelector, now: Instant, reason: ReselectionReason,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> SelectionDecision {
        let round = selector.beginRound(now: now, reason: reason)
        #expect(round.probes.isEmpty, "round \(round.number) wanted probes: \(round.probes)", sourceLocation: sourceLocation)
        return selector.completeRound(round, now: now)
    }

    /// The standard settings without a probe budget: a collaborative node then probes only
    /// what nobody measured, so the tests of how it judges shared data see no random probes.
    /// The tests of the budget itself pass ``SelectorSettings/standard``.
    static var judgingOnly: SelectorSettings {
        var settings = SelectorSettings.standard
        settings.probeBudget = 0
        return settings
    }

    /// A selector over `gateways` (default settings: ``judgingOnly``).
    static func selector(
        _ strategy: GatewaySelector.Strategy, gateways: [Gateway], seed: UInt64 = 1, node index: Int = 0,
        settings: SelectorSettings = judgingOnly, preferences: GatewayPreferences = GatewayPreferences()
    ) -> GatewaySelector {
        var selector = GatewaySelector(
            node: node(index), strategy: strategy, settings: settings, preferences: preferences, seed: seed)
        selector.updateGateways(gateways)
        return selector
    }
}
