import Testing
@testable import OverlayCore

/// RFC 4303-style sliding window per sender, with sessions.
@Suite struct ReplayGuardTests {
    static let alice = TestKeys.id(1)
    static let bob = TestKeys.id(2)

    /// Checks then records, as the codec does for a datagram whose signature verified.
    static func accept(_ guardian: inout ReplayGuard, _ sequence: UInt64, sender: NodeID = alice, session: UInt64 = 10) -> Bool {
        guard guardian.isFresh(sender: sender, session: session, sequence: sequence) else { return false }
        guardian.record(sender: sender, session: session, sequence: sequence)
        return true
    }

    @Test func reorderedDatagramsWithinTheWindowAreAcceptedOnce() {
        var guardian = ReplayGuard()
        let order: [UInt64] = [1, 3, 2, 10, 5, 64, 4, 9, 8, 7, 6]
        for sequence in order {
            let fresh = Self.accept(&guardian, sequence)
            #expect(fresh, "first sight of \(sequence)")
        }
        for sequence in order {
            let again = Self.accept(&guardian, sequence)
            #expect(!again, "\(sequence) a second time")
        }
        // 64 is the highest: 1 is 63 behind, the oldest still inside the window; 11 was never seen.
        let eleven = Self.accept(&guardian, 11)
        #expect(eleven)
    }

    @Test func datagramOlderThanTheWindowIsRefused() {
        var guardian = ReplayGuard()
        _ = Self.accept(&guardian, 100)
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 36), "64 behind: outside")
        #expect(guardian.isFresh(sender: Self.alice, session: 10, sequence: 37), "63 behind: inside, unseen")
        // A jump of more than the window forgets the old bits.
        _ = Self.accept(&guardian, 1_000)
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 100))
        #expect(guardian.isFresh(sender: Self.alice, session: 10, sequence: 999))
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 1_000))
    }

    @Test func sequenceZeroIsNeverFresh() {
        let guardian = ReplayGuard()
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 0))
    }

    @Test func olderSessionIsRefusedAndNewerSessionResetsTheWindow() {
        var guardian = ReplayGuard()
        _ = Self.accept(&guardian, 500, session: 10)
        #expect(!guardian.isFresh(sender: Self.alice, session: 9, sequence: 501), "a capture from before the restart")
        let restarted = Self.accept(&guardian, 1, session: 11)
        #expect(restarted, "a restarted sender counts from 1 again")
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 501), "the old session is over")
        #expect(!guardian.isFresh(sender: Self.alice, session: 11, sequence: 1))
        #expect(guardian.isFresh(sender: Self.alice, session: 11, sequence: 2))
    }

    @Test func checkingDoesNotRecord() {
        var guardian = ReplayGuard()
        #expect(guardian.isFresh(sender: Self.alice, session: 10, sequence: 5))
        #expect(guardian.isFresh(sender: Self.alice, session: 10, sequence: 5), "a forged datagram only checked, never recorded")
        _ = Self.accept(&guardian, 5)
        #expect(!guardian.isFresh(sender: Self.alice, session: 10, sequence: 5))
    }

    @Test func sendersHaveSeparateWindows() {
        var guardian = ReplayGuard()
        _ = Self.accept(&guardian, 7, sender: Self.alice)
        #expect(guardian.isFresh(sender: Self.bob, session: 10, sequence: 7))
        guardian.forget(Self.alice)
        #expect(guardian.isFresh(sender: Self.alice, session: 10, sequence: 7), "forgotten")
    }
}

/// Token buckets per sender.
@Suite struct RateLimiterTests {
    static let t0 = Instant(milliseconds: 50_000)

    @Test func burstIsAdmittedThenRefusedUntilTokensRefill() {
        var limiter = RateLimiter(ratePerSecond: 2, burst: 3)
        let sender = TestKeys.id(1)
        let admitted = (0..<5).map { _ in limiter.admit(sender, now: Self.t0) }
        #expect(admitted == [true, true, true, false, false])
        // Two tokens per second: one after 500 ms.
        let afterHalf = [limiter.admit(sender, now: Self.t0 + .milliseconds(500)), limiter.admit(sender, now: Self.t0 + .milliseconds(500))]
        #expect(afterHalf == [true, false])
        // The bucket never holds more than the burst, however long the sender was quiet.
        let later = Self.t0 + .seconds(3_600)
        let refilled = (0..<4).map { _ in limiter.admit(sender, now: later) }
        #expect(refilled == [true, true, true, false])
    }

    @Test func eachSenderHasItsOwnBucket() {
        var limiter = RateLimiter(ratePerSecond: 1, burst: 1)
        let first = limiter.admit(TestKeys.id(1), now: Self.t0)
        let second = limiter.admit(TestKeys.id(1), now: Self.t0)
        let other = limiter.admit(TestKeys.id(2), now: Self.t0)
        #expect(first && !second && other)
    }

    @Test func clockGoingBackwardsGrantsNoTokens() {
        var limiter = RateLimiter(ratePerSecond: 10, burst: 1)
        let first = limiter.admit(TestKeys.id(1), now: Self.t0)
        let back = limiter.admit(TestKeys.id(1), now: Self.t0 - .seconds(10))
        #expect(first && !back)
    }
}
