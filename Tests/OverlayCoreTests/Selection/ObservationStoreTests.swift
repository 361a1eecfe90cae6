import Testing
import OverlayCore

/// The gossiped observations: dedupe by sequence, freshness, memory bounds, robust estimates.
@Suite struct ObservationStoreTests {
    typealias F = SelectionFixtures

    static let now = F.start
    static let alice = F.node(1), bob = F.node(2), carol = F.node(3), dave = F.node(4)

    @Test func newerSequenceReplacesAndOlderOrEqualIsADuplicate() {
        var store = ObservationStore()
        #expect(store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now, sequence: 5), now: Self.now) == .inserted)
        #expect(store.insert(F.ok(Self.alice, "g", ms: 70, at: Self.now, sequence: 5), now: Self.now) == .duplicate)
        #expect(store.insert(F.ok(Self.alice, "g", ms: 70, at: Self.now, sequence: 4), now: Self.now) == .duplicate)
        #expect(store.insert(F.ok(Self.alice, "g", ms: 90, at: Self.now, sequence: 6), now: Self.now) == .replaced)
        #expect(store.count == 1)
        #expect(store.latest(of: "g", by: Self.alice)?.contentLatency == .milliseconds(90))
        #expect(store.insert(F.ok(Self.alice, "h", ms: 90, at: Self.now, sequence: 1), now: Self.now) == .inserted,
                "sequences are compared per observer and gateway")
    }

    @Test func anEstimateSaysHowCertainItIs() {
        var store = ObservationStore()
        store.insert(F.ok(Self.alice, "g", ms: 40, at: Self.now), now: Self.now)
        #expect(store.estimate(for: "g", hops: nil, now: Self.now)?.spread == nil, "one observer: no spread")
        for (observer, ms) in [(Self.bob, Int64(50)), (Self.carol, 60), (Self.dave, 70)] {
            store.insert(F.ok(observer, "g", ms: ms, at: Self.now), now: Self.now)
        }
        // 40, 50, 60, 70: quartiles 47.5 and 62.5.
        #expect(store.estimate(for: "g", hops: nil, now: Self.now)?.spread == .milliseconds(15))
        let agreeing = (0..<5).reduce(into: ObservationStore()) { store, index in
            store.insert(F.ok(F.node(10 + index), "h", ms: 80, at: Self.now), now: Self.now)
        }
        #expect(agreeing.estimate(for: "h", hops: nil, now: Self.now)?.spread == .zero)
    }

    @Test func staleObservationsAreRefusedAndExpired() {
        var store = ObservationStore(freshnessWindow: .seconds(300))
        #expect(store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now - .seconds(301)), now: Self.now) == .stale)
        #expect(store.insert(F.ok(Self.bob, "g", ms: 50, at: Self.now - .seconds(200)), now: Self.now) == .inserted)
        #expect(store.estimate(for: "g", hops: nil, now: Self.now + .seconds(100))?.observerCount == 1)
        #expect(store.estimate(for: "g", hops: nil, now: Self.now + .seconds(101)) == nil)
        #expect(store.expire(now: Self.now + .seconds(101)) == 1)
        #expect(store.count == 0)
    }

    @Test func observationsFromTheFutureAreRefused() {
        var store = ObservationStore(futureTolerance: .seconds(60))
        #expect(store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now + .seconds(61)), now: Self.now) == .fromFuture)
        #expect(store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now + .seconds(59)), now: Self.now) == .inserted)
    }

    @Test func inconsistentObservationsAreRefused() {
        var store = ObservationStore()
        let both = Observation(observer: Self.alice, gateway: "g", contentLatency: .milliseconds(5), failure: .timeout, takenAt: Self.now, sequence: 1)
        let neither = Observation(observer: Self.alice, gateway: "g", contentLatency: nil, takenAt: Self.now, sequence: 1)
        let negative = F.ok(Self.alice, "g", ms: -3, at: Self.now)
        for observation in [both, neither, negative] {
            #expect(!observation.isWellFormed)
            #expect(store.insert(observation, now: Self.now) == .malformed)
        }
    }

    @Test func capacityEvictsTheOldestObservation() {
        var store = ObservationStore(capacity: 3)
        for (index, observer) in [Self.alice, Self.bob, Self.carol].enumerated() {
            store.insert(F.ok(observer, "g", ms: 50, at: Self.now - .seconds(Int64(10 - index))), now: Self.now)
        }
        #expect(store.insert(F.ok(Self.dave, "g", ms: 50, at: Self.now), now: Self.now) == .inserted)
        #expect(store.count == 3)
        #expect(store.latest(of: "g", by: Self.alice) == nil, "the oldest went")
        #expect(store.insert(F.ok(F.node(9), "g", ms: 50, at: Self.now - .seconds(60)), now: Self.now) == .crowdedOut,
                "an observation older than all held does not push out a newer one")
    }

    @Test func oneObserverCannotHoldMoreThanItsShareOfGateways() {
        var store = ObservationStore(maxGatewaysPerObserver: 2)
        store.insert(F.ok(Self.bob, "real", ms: 50, at: Self.now), now: Self.now)
        for index in 0..<10 {
            store.insert(F.ok(Self.alice, GatewayID("invented\(index)"), ms: 1, at: Self.now + .milliseconds(Int64(index))), now: Self.now + .seconds(1))
        }
        #expect(store.count == 3)
        #expect(store.latest(of: "real", by: Self.bob) != nil)
        #expect(store.gateways == ["invented8", "invented9", "real"])
    }

    @Test func estimateIsTheMedianOfEachObserversLatest() {
        var store = ObservationStore()
        store.insert(F.ok(Self.alice, "g", ms: 500, at: Self.now - .seconds(5), sequence: 1), now: Self.now)
        store.insert(F.ok(Self.alice, "g", ms: 40, at: Self.now, sequence: 2), now: Self.now)
        store.insert(F.ok(Self.bob, "g", ms: 60, at: Self.now - .seconds(20)), now: Self.now)
        store.insert(F.ok(Self.carol, "g", ms: 55, at: Self.now - .seconds(10)), now: Self.now)
        let estimate = store.estimate(for: "g", hops: nil, now: Self.now + .seconds(2))
        #expect(estimate?.contentLatency == .milliseconds(55))
        #expect(estimate?.observerCount == 3)
        #expect(estimate?.age == .seconds(2))
        #expect(estimate?.oldestAge == .seconds(22))
    }

    @Test func evenCountAveragesTheTwoMiddleValues() {
        var store = ObservationStore()
        for (observer, ms) in [(Self.alice, Int64(40)), (Self.bob, 60), (Self.carol, 100), (Self.dave, 9_000)] {
            store.insert(F.ok(observer, "g", ms: ms, at: Self.now), now: Self.now)
        }
        #expect(store.estimate(for: "g", hops: nil, now: Self.now)?.contentLatency == .milliseconds(80))
    }

    @Test func oneLiarCannotMoveTheMedianPastAnHonestValue() {
        var store = ObservationStore()
        for (index, ms) in [Int64(40), 42, 44, 46].enumerated() {
            store.insert(F.ok(F.node(10 + index), "g", ms: ms, at: Self.now), now: Self.now)
        }
        for lie in [Int64(0), 1, 10_000_000] {
            var lied = store
            lied.insert(F.ok(Self.alice, "g", ms: lie, at: Self.now), now: Self.now)
            let estimate = lied.estimate(for: "g", hops: nil, now: Self.now)!.contentLatency
            #expect(estimate >= .milliseconds(42) && estimate <= .milliseconds(44), "lie \(lie) moved it to \(estimate)")
        }
    }

    @Test func failuresCountAsThePenalty() {
        var store = ObservationStore(failurePenalty: .seconds(10))
        store.insert(F.failed(Self.alice, "g", at: Self.now), now: Self.now)
        store.insert(F.failed(Self.bob, "g", .httpStatus(502), at: Self.now), now: Self.now)
        store.insert(F.ok(Self.carol, "g", ms: 50, at: Self.now), now: Self.now)
        let estimate = store.estimate(for: "g", hops: nil, now: Self.now)!
        #expect(estimate.contentLatency == .seconds(10))
        #expect(estimate.failureCount == 2)
        #expect(estimate.isFailing)
    }

    @Test func estimateAdjustsEachObserverForHopDistance() {
        var store = ObservationStore(latencyPerHop: .milliseconds(10))
        store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now, hops: 1), now: Self.now)
        store.insert(F.ok(Self.bob, "g", ms: 70, at: Self.now, hops: 3), now: Self.now)
        store.insert(F.ok(Self.carol, "g", ms: 90, at: Self.now, hops: 5), now: Self.now)
        // From 4 hops: 50 + 30, 70 + 10, 90 - 10 = 80, 80, 80.
        #expect(store.estimate(for: "g", hops: 4, now: Self.now)?.contentLatency == .milliseconds(80))
        #expect(store.estimate(for: "g", hops: nil, now: Self.now)?.contentLatency == .milliseconds(70))
    }

    @Test func forgettingAnObserverDropsItsObservations() {
        var store = ObservationStore()
        store.insert(F.ok(Self.alice, "g", ms: 50, at: Self.now), now: Self.now)
        store.insert(F.ok(Self.alice, "h", ms: 50, at: Self.now), now: Self.now)
        store.insert(F.ok(Self.bob, "h", ms: 50, at: Self.now), now: Self.now)
        store.forget(observer: Self.alice)
        #expect(store.count == 1)
        #expect(store.all.map(\.observer) == [Self.bob])
    }
}

/// Selection announcements: who uses which gateway.
@Suite struct GatewayLoadTests {
    typealias F = SelectionFixtures

    @Test func loadCountsEachNodesLatestChoice() {
        var load = GatewayLoad()
        load.apply(SelectionAnnouncement(node: F.node(1), gateway: "a", sequence: 1, announcedAt: F.start))
        load.apply(SelectionAnnouncement(node: F.node(2), gateway: "a", sequence: 1, announcedAt: F.start))
        load.apply(SelectionAnnouncement(node: F.node(1), gateway: "b", sequence: 2, announcedAt: F.start))
        #expect(load.clients(of: "a") == 1)
        #expect(load.clients(of: "b") == 1)
        #expect(load.totalClients == 2)
    }

    @Test func anOlderAnnouncementIsIgnored() {
        var load = GatewayLoad()
        let newer = load.apply(SelectionAnnouncement(node: F.node(1), gateway: "b", sequence: 5, announcedAt: F.start))
        let older = load.apply(SelectionAnnouncement(node: F.node(1), gateway: "a", sequence: 4, announcedAt: F.start))
        #expect(newer)
        #expect(!older)
        #expect(load.gateway(of: F.node(1)) == "b")
    }

    @Test func forgottenAndExpiredNodesNoLongerCount() {
        var load = GatewayLoad()
        load.apply(SelectionAnnouncement(node: F.node(1), gateway: "a", sequence: 1, announcedAt: F.start))
        load.apply(SelectionAnnouncement(node: F.node(2), gateway: "a", sequence: 1, announcedAt: F.start + .seconds(60)))
        load.apply(SelectionAnnouncement(node: F.node(3), gateway: nil, sequence: 1, announcedAt: F.start))
        #expect(load.clients(of: "a") == 2)
        #expect(load.expire(announcedBefore: F.start + .seconds(30)) == 2)
        #expect(load.clients(of: "a") == 1)
        load.forget(node: F.node(2))
        #expect(load.totalClients == 0)
    }
}
