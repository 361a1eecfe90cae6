import Foundation
import Testing
@testable import OverlayCore

/// Lifeguard 3.2: a suspicion's timeout falls from max toward min as independent members confirm it.
@Suite struct SuspicionTests {
    static let start = Instant(milliseconds: 10_000)

    static func suspicion(expected: Int, min: Int64 = 1_000, max: Int64 = 4_000) -> Suspicion {
        Suspicion(
            incarnation: 3, by: TestKeys.id(1), start: start, min: .milliseconds(min), max: .milliseconds(max),
            expectedConfirmations: expected)
    }

    @Test func unconfirmedSuspicionLastsTheMaximumTimeout() {
        let suspicion = Self.suspicion(expected: 3)
        #expect(suspicion.confirmations == 0)
        #expect(suspicion.timeout == .milliseconds(4_000))
        #expect(suspicion.deadline == Instant(milliseconds: 14_000))
    }

    @Test func eachIndependentConfirmationShrinksTheTimeoutLogarithmically() {
        var suspicion = Self.suspicion(expected: 3)
        // timeout(c) = max - (max - min) * log(c + 1) / log(K + 1), K = 3.
        let isNew1 = suspicion.confirm(by: TestKeys.id(2))
        #expect(isNew1)
        #expect(suspicion.confirmations == 1)
        #expect(suspicion.timeout == .milliseconds(2_500))  // 4000 - 3000 * log 2 / log 4
        let isNew2 = suspicion.confirm(by: TestKeys.id(3))
        #expect(isNew2)
        #expect(suspicion.timeout == .milliseconds(1_623))  // 4000 - 3000 * log 3 / log 4 = 1622.6
        let isNew3 = suspicion.confirm(by: TestKeys.id(4))
        #expect(isNew3)
        #expect(suspicion.timeout == .milliseconds(1_000))  // K confirmations reach min
        #expect(suspicion.deadline == Instant(milliseconds: 11_000))
    }

    @Test func confirmationsBeyondTheExpectedNeverGoBelowTheMinimum() {
        var suspicion = Self.suspicion(expected: 2)
        for index in 2...6 {
            let isNew = suspicion.confirm(by: TestKeys.id(index))
            #expect(isNew)
        }
        #expect(suspicion.confirmations == 5)
        #expect(suspicion.timeout == .milliseconds(1_000))
    }

    @Test func theSameSuspectorTwiceCountsOnce() {
        var suspicion = Self.suspicion(expected: 3)
        let isNew1 = suspicion.confirm(by: TestKeys.id(1))
        #expect(!isNew1, "the first suspector is not a confirmation")
        #expect(suspicion.confirmations == 0)
        #expect(suspicion.timeout == .milliseconds(4_000))
        let isNew2 = suspicion.confirm(by: TestKeys.id(2))
        #expect(isNew2)
        let isNew3 = suspicion.confirm(by: TestKeys.id(2))
        #expect(!isNew3)
        #expect(suspicion.confirmations == 1)
        #expect(suspicion.timeout == .milliseconds(2_500))
    }

    @Test func aCloudTooSmallForConfirmationsUsesTheMinimumAtOnce() {
        let suspicion = Self.suspicion(expected: 0)
        #expect(suspicion.timeout == .milliseconds(1_000))
    }

    @Test func settingsDeriveTimeoutsFromCloudSize() {
        let radio = MembershipSettings.radio
        // min = α · max(1, log10 N) · interval; max = β · min; K = α - 2 unless N - 2 < K.
        #expect(radio.suspicionMinTimeout(memberCount: 5) == .seconds(3))
        #expect(radio.suspicionMaxTimeout(memberCount: 5) == .seconds(12))
        #expect(radio.suspicionMinTimeout(memberCount: 100) == .seconds(6))
        #expect(radio.suspicionMaxTimeout(memberCount: 100) == .seconds(24))
        #expect(radio.expectedConfirmations(memberCount: 2) == 0)
        #expect(radio.expectedConfirmations(memberCount: 3) == 1)
        #expect(MembershipSettings.lan.expectedConfirmations(memberCount: 10) == 2)
        #expect(radio.retransmitLimit(memberCount: 1) == 4)
        #expect(radio.retransmitLimit(memberCount: 10) == 8)
        #expect(radio.pushPullInterval(memberCount: 32) == .seconds(30))
        #expect(radio.pushPullInterval(memberCount: 64) == .seconds(60))
    }
}
