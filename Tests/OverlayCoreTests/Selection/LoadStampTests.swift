import Testing
import OverlayCore

/// Shared observations describe the load their gateway had: once the cloud's clients of a
/// gateway move by more than the tolerance, its older observations stop counting as fresh
/// data, so somebody measures it again, and newer observations outweigh them.
@Suite struct LoadStampTests {
    typealias F = SelectionFixtures

    static let gateways = [F.gateway("a", hops: 1, capacity: 20), F.gateway("b", hops: 1, capacity: 20)]

    /// Announces that `count` other nodes (indices 100...) use `gateway`.
    static func load(_ selector: inout GatewaySelector, _ gateway: GatewayID, clients count: Int, from first: Int = 100) {
        for index in first..<(first + count) {
            selector.receive(SelectionAnnouncement(node: F.node(index), gateway: gateway, sequence: 1, announcedAt: F.start))
        }
    }

    @Test func theAllowanceIsATenthOfCapacityAndAtLeastTwoClients() {
        let settings = SelectorSettings.standard
        #expect(settings.loadChangeAllowance(capacity: 20) == 2)
        #expect(settings.loadChangeAllowance(capacity: 32) == 3)
        #expect(settings.loadChangeAllowance(capacity: 100) == 10)
    }

    @Test func aGatewayThatFilledUpSinceItWasMeasuredIsMeasuredMoreOften() {
        // In a cloud of 10 with the standard budget: while its three observations describe its
        // load, a is refreshed at half rate; two more clients are within the allowance of 2;
        // once six more use it, its observations no longer count toward its observers and it
        // gets the full rate (b, unchanged, stays at half rate).
        func probes(ofA clients: Int) -> Int {
            var count = 0
            for seed in UInt64(1)...400 {
                var selector = F.selector(.collaborative, gateways: Self.gateways, seed: seed, settings: .standard)
                selector.cloudSize = 10
                F.share(&selector, ["a": 50, "b": 60], at: F.start - .seconds(30))
                Self.load(&selector, "a", clients: clients)
                count += selector.beginRound(now: F.start, reason: .requested).probes.filter { $0.id == "a" }.count
            }
            return count
        }
        let measured = probes(ofA: 0), within = probes(ofA: 2), filled = probes(ofA: 6)
        #expect(within < measured * 3 / 2 + 20, "within the allowance: \(within) against \(measured)")
        #expect(filled > measured * 3 / 2, "after filling up: \(filled) against \(measured)")
    }

    @Test func olderObservationsAreCarriedOverToTheNewLoad() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, ["a": 50], at: F.start - .seconds(30))
        Self.load(&selector, "a", clients: 8)
        // Measured idle at 50 ms; with 8 of its 20 clients' capacity taken (and the assumed 30%
        // of other users) the queue predicts 50 · 0.7 / 0.3 = 117 ms...
        #expect(selector.estimate(for: "a", now: F.start)?.contentLatency == .milliseconds(117))
        #expect(selector.loadModel(of: "a").rescale(.milliseconds(50), from: 0, to: 8) == .milliseconds(117))
        // ...and an observation at the new load joins them without being carried.
        selector.receive(F.ok(F.node(210), "a", ms: 130, at: F.start), now: F.start)
        let estimate = selector.estimate(for: "a", now: F.start)
        #expect(estimate?.contentLatency == .milliseconds(117))
        #expect(estimate?.observerCount == 4)
        // The old ones no longer count toward the observers that describe its load.
        #expect(selector.observations.observerCount(of: "a", now: F.start, where: selector.describesLoad(of: "a")) == 1)
    }

    @Test func forgettingAnObserverDropsItsStamps() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, ["a": 50], observers: 1, at: F.start - .seconds(30))
        selector.forget(node: F.node(200))
        Self.load(&selector, "a", clients: 8)
        selector.receive(F.ok(F.node(200), "a", ms: 70, at: F.start, sequence: 2), now: F.start)
        #expect(selector.estimate(for: "a", now: F.start)?.contentLatency == .milliseconds(70), "stamped afresh at 8 clients")
        #expect(selector.describesLoad(of: "a")(F.ok(F.node(200), "a", ms: 70, at: F.start, sequence: 2)))
    }
}
