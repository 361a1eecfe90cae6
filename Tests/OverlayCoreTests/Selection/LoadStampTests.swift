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

    @Test func aGatewayThatFilledUpSinceItWasMeasuredIsMeasuredAgain() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, ["a": 50, "b": 60], at: F.start - .seconds(30))
        #expect(selector.beginRound(now: F.start, reason: .start).probes.isEmpty, "three observers at today's load")
        _ = selector.completeRound(probeResults: [], now: F.start)

        Self.load(&selector, "a", clients: 2)
        let within = selector.beginRound(now: F.start + .seconds(1), reason: .requested)
        #expect(within.probes.isEmpty, "two more clients are within the allowance of 2")
        _ = selector.completeRound(probeResults: [], now: F.start + .seconds(1))

        Self.load(&selector, "a", clients: 6)
        let round = selector.beginRound(now: F.start + .seconds(2), reason: .requested)
        #expect(round.probes.map(\.id) == ["a"], "a's measurements were taken with 0 clients, it now has 6")
        #expect(round.shared.contains("b"))
    }

    @Test func newerObservationsAtTheNewLoadReplaceTheOldEstimate() {
        var selector = F.selector(.collaborative, gateways: Self.gateways)
        F.share(&selector, ["a": 50], at: F.start - .seconds(30))
        Self.load(&selector, "a", clients: 8)
        // The old estimate still stands while nothing newer exists...
        #expect(selector.estimate(for: "a", now: F.start)?.contentLatency == .milliseconds(50))
        // ...and gives way to one observation taken at the new load, although three are older.
        selector.receive(F.ok(F.node(210), "a", ms: 900, at: F.start), now: F.start)
        let estimate = selector.estimate(for: "a", now: F.start)
        #expect(estimate?.contentLatency == .milliseconds(900))
        #expect(estimate?.observerCount == 1)
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
