import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// Timer-driven behaviour of a bare ``Membership``: suspicion timeouts, probing, relays, health, reaping.
@Suite struct MembershipTimingTests {
    static let t0 = Instant(milliseconds: 100_000)
    static let x = 5

    // MARK: Suspicion through membership (Lifeguard 3.2)

    /// Node 0 knowing nodes 1, 2 and 5 alive: N = 4, so radio gives min 3 s, max 12 s, K = 1.
    static func cloudOfFour() -> Membership {
        var membership = MembershipFixture.make()
        for index in [1, 2, x] { membership.admit(index, at: t0) }
        return membership
    }

    @Test func confirmedSuspicionFiresAtTheMinimumTimeout() throws {
        var membership = Self.cloudOfFour()
        let first = Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0)
        _ = membership.onClaim(first, now: Self.t0)
        #expect(membership.nextDeadline == Self.t0 + .seconds(12))

        let second = Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(2), incarnation: 1, state: .suspect, at: Self.t0 + .seconds(1))
        let result = membership.onClaim(second, now: Self.t0 + .seconds(1))
        let directives = try #require(result)
        #expect(directives == [.broadcast(second)], "an independent confirmation is passed on")
        #expect(membership.nextDeadline == Self.t0 + .seconds(3), "K = 1 confirmation brings the deadline down to min")

        let early = membership.advance(to: Self.t0 + .milliseconds(2_999))
        #expect(early.isEmpty)
        #expect(membership.state(of: Self.x) == .suspect)
        let fired = membership.advance(to: Self.t0 + .seconds(3))
        #expect(membership.state(of: Self.x) == .failed)
        let failed = try #require(fired.compactMap(\.directive.broadcastItem).first)
        #expect(failed.origin == MembershipFixture.local.nodeID)
        #expect(failed.claim?.state == .failed)
        #expect(failed.claim?.incarnation == 1)
        #expect(fired.compactMap(\.directive.change) == [MemberChange(id: TestKeys.id(Self.x), name: "n-\(TestKeys.id(Self.x).shortForm)", from: .suspect, to: .failed, incarnation: 1)])
    }

    @Test func unconfirmedSuspicionFiresOnlyAtTheMaximumTimeout() throws {
        var membership = Self.cloudOfFour()
        let first = Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0)
        _ = membership.onClaim(first, now: Self.t0)
        // The same suspector again (a re-issued claim, different bytes) is not a confirmation.
        let again = Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0 + .seconds(1))
        let ignored = membership.onClaim(again, now: Self.t0 + .seconds(1))
        #expect(try #require(ignored).isEmpty)
        #expect(membership.nextDeadline == Self.t0 + .seconds(12))

        _ = membership.advance(to: Self.t0 + .seconds(3))
        #expect(membership.state(of: Self.x) == .suspect)
        _ = membership.advance(to: Self.t0 + .milliseconds(11_999))
        #expect(membership.state(of: Self.x) == .suspect)
        _ = membership.advance(to: Self.t0 + .seconds(12))
        #expect(membership.state(of: Self.x) == .failed)
    }

    @Test func ownFailedProbeOfAnAlreadySuspectMemberConfirmsTheSuspicion() throws {
        var membership = Self.cloudOfFour()
        let first = Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0)
        _ = membership.onClaim(first, now: Self.t0)
        _ = membership.start(now: Self.t0)
        // Everyone answers but the suspect; this node's probe of it fails within three rounds.
        var confirmations: [SignedItem] = []
        var now = Self.t0
        while let deadline = membership.nextDeadline, deadline <= Self.t0 + .seconds(6) {
            now = deadline
            for directive in membership.onTick(now: now) {
                if let ping = directive.ping, ping.target != TestKeys.id(Self.x) {
                    _ = membership.onAck(probe: ping.probe, from: ping.target, now: now)
                }
                if let item = directive.broadcastItem, item.claim?.state == .suspect { confirmations.append(item) }
            }
        }
        let own = try #require(confirmations.first)
        #expect(own.origin == MembershipFixture.local.nodeID)
        #expect(own.claim?.subject == TestKeys.id(Self.x).data)
        #expect(own.claim?.incarnation == 1)
        #expect(confirmations.count == 1, "one confirmation per suspector")
        #expect(membership.state(of: Self.x) == .failed, "confirmed: min timeout (3 s), long before max (12 s)")
    }

    @Test func refutedSuspicionNeverFires() throws {
        var membership = Self.cloudOfFour()
        _ = membership.onClaim(Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0), now: Self.t0)
        _ = membership.onClaim(Claims.alive(TestKeys.signer(Self.x), incarnation: 2, endpoint: TestKeys.endpoint(Self.x), at: Self.t0), now: Self.t0 + .seconds(1))
        #expect(membership.state(of: Self.x) == .alive)
        let fired = membership.advance(to: Self.t0 + .seconds(13))
        #expect(fired.isEmpty)
        #expect(membership.state(of: Self.x) == .alive)
        #expect(membership.members[TestKeys.id(Self.x)]?.incarnation == 2)
    }

    // MARK: Probing, relays and local health (SWIM 4.1, Lifeguard 3.1, 3.3)

    /// Advances to the next ping this node sends.
    static func nextPing(_ membership: inout Membership, from time: Instant) -> (probe: UInt64, target: NodeID, at: Instant)? {
        var now = time
        while let deadline = membership.nextDeadline, deadline <= time + .seconds(30) {
            now = max(now, deadline)
            for directive in membership.onTick(now: now) {
                if let ping = directive.ping { return (ping.probe, ping.target, now) }
            }
        }
        return nil
    }

    @Test func localHealthRisesOnMissedAcksAndNacksAndFallsOnSuccess() throws {
        var membership = MembershipFixture.make()
        for index in [1, 2, 3] { membership.admit(index, at: Self.t0) }
        _ = membership.start(now: Self.t0)
        #expect(membership.localHealthScore == 0)

        // Probe 1: no ack, and neither helper nacks: score += 2 (the missing nacks).
        let first = try #require(Self.nextPing(&membership, from: Self.t0))
        let requests = membership.advance(to: first.at + .milliseconds(500)).compactMap(\.directive.pingRequest)
        #expect(requests.count == 2)
        #expect(Set(requests.map(\.helper)).count == 2)
        #expect(!requests.map(\.helper).contains(first.target))
        #expect(requests.allSatisfy { $0.request.probe == first.probe && $0.request.target == first.target.data })
        // The next round and the first probe's deadline share an instant; the round goes first.
        let atDeadline = membership.advance(to: first.at + .seconds(1))
        #expect(membership.localHealthScore == 2)
        #expect(membership.members[first.target]?.state == .suspect, "the unanswered target is suspected")
        let second = try #require(atDeadline.compactMap(\.directive.ping).first)

        // Probe 2 answered: score -= 1.
        let afterAck = membership.onAck(probe: second.probe, from: second.target, now: first.at + .milliseconds(1_040))
        #expect(afterAck.isEmpty)
        #expect(membership.localHealthScore == 1)
        #expect(membership.members[second.target]?.roundTrip == .milliseconds(40))

        // Probe 3 goes out with the multiplier 1 + 1 = 2: its direct timeout is 1 s, its round 2 s.
        let third = try #require(Self.nextPing(&membership, from: first.at + .seconds(2)))
        #expect(third.at == first.at + .seconds(2))
        let fired = membership.advance(to: third.at + .milliseconds(999))
        #expect(fired.compactMap(\.directive.pingRequest).isEmpty)
        let thirdRequests = membership.advance(to: third.at + .seconds(1)).compactMap(\.directive.pingRequest)
        #expect(thirdRequests.count == 2)
        // Both helpers nack: the target is silent but our own links work, so the score holds.
        membership.onNack(probe: third.probe)
        membership.onNack(probe: third.probe)
        let fourthRound = membership.advance(to: third.at + .seconds(2))
        #expect(membership.localHealthScore == 1)
        #expect(fourthRound.compactMap(\.directive.ping).count == 1, "the next round comes 2 s later, not 1 s")
        #expect(fourthRound.first?.time == third.at + .seconds(2))
    }

    @Test func localHealthIsCappedAtAwarenessMax() throws {
        var settings = MembershipSettings.radio
        settings.awarenessMax = 3
        var membership = MembershipFixture.make(settings: settings)
        for index in [1, 2, 3] { membership.admit(index, at: Self.t0) }
        _ = membership.start(now: Self.t0)
        _ = membership.advance(to: Self.t0 + .seconds(60))
        #expect(membership.localHealthScore == 3)
    }

    @Test func ackThroughARelayCompletesTheProbe() throws {
        var membership = MembershipFixture.make()
        for index in [1, 2, 3] { membership.admit(index, at: Self.t0) }
        _ = membership.start(now: Self.t0)
        let ping = try #require(Self.nextPing(&membership, from: Self.t0))
        let fired = membership.advance(to: ping.at + .milliseconds(500))
        let helper = try #require(fired.compactMap(\.directive.pingRequest).first)
        // The helper forwards the target's ack under our probe number.
        let afterAck = membership.onAck(probe: ping.probe, from: helper.helper, now: ping.at + .milliseconds(700))
        #expect(afterAck.isEmpty)
        _ = membership.advance(to: ping.at + .seconds(1))
        #expect(membership.members[ping.target]?.state == .alive)
        #expect(membership.localHealthScore == 0)
        #expect(membership.members[ping.target]?.roundTrip == nil, "an indirect ack is no round-trip sample of the target")
    }

    @Test func relayNacksWhenTheTargetIsSilent() throws {
        var relay = MembershipFixture.make()
        relay.admit(1, at: Self.t0)
        relay.admit(2, at: Self.t0)
        let request = Overlayd_V1_PingRequest.with {
            $0.probe = 77
            $0.target = TestKeys.id(2).data
            $0.targetEndpoint = .with { $0.host = "10.0.0.3"; $0.port = 7946 }
        }
        let requester = PeerEndpoint(host: "10.0.0.2", port: 7946)
        let out = relay.onPingRequest(request, from: TestKeys.id(1), source: requester, now: Self.t0)
        let ping = try #require(out.first?.ping)
        #expect(out.count == 1)
        #expect(ping.target == TestKeys.id(2))
        #expect(ping.probe != 77, "the relay probes under its own number")

        // Lifeguard 3.3: the nack leaves at 80% of the probe timeout.
        let fired = relay.advance(to: Self.t0 + .milliseconds(399))
        #expect(fired.isEmpty)
        let nacks = relay.advance(to: Self.t0 + .milliseconds(400)).compactMap(\.directive.nack)
        #expect(nacks.count == 1)
        #expect(nacks.first?.probe == 77)
        #expect(nacks.first?.to == Destination(id: TestKeys.id(1), endpoint: requester))
        // A late ack is still forwarded (the requester may not have given up yet).
        let late = relay.onAck(probe: ping.probe, from: TestKeys.id(2), now: Self.t0 + .milliseconds(600))
        #expect(late.compactMap(\.ack).map(\.probe) == [77])
    }

    @Test func relayForwardsTheTargetsAckAndSendsNoNack() throws {
        var relay = MembershipFixture.make()
        relay.admit(1, at: Self.t0)
        relay.admit(2, at: Self.t0)
        let request = Overlayd_V1_PingRequest.with {
            $0.probe = 78
            $0.target = TestKeys.id(2).data
            $0.targetEndpoint = .with { $0.host = "10.0.0.3"; $0.port = 7946 }
        }
        let requester = PeerEndpoint(host: "10.0.0.2", port: 7946)
        let relayed = relay.onPingRequest(request, from: TestKeys.id(1), source: requester, now: Self.t0)
        let ping = try #require(relayed.first?.ping)
        let forwarded = relay.onAck(probe: ping.probe, from: TestKeys.id(2), now: Self.t0 + .milliseconds(30))
        #expect(forwarded == [.send(.ack(.with { $0.probe = 78 }), to: Destination(id: TestKeys.id(1), endpoint: requester))])
        let fired = relay.advance(to: Self.t0 + .seconds(3))
        #expect(fired.compactMap(\.directive.nack).isEmpty)
        let again = relay.onAck(probe: ping.probe, from: TestKeys.id(2), now: Self.t0 + .seconds(3))
        #expect(again.isEmpty, "forwarded once")
    }

    @Test func pingRequestsForItselfOrWithoutAPortAreIgnored() {
        var relay = MembershipFixture.make()
        let selfRequest = Overlayd_V1_PingRequest.with {
            $0.probe = 1
            $0.target = MembershipFixture.local.nodeID.data
            $0.targetEndpoint = .with { $0.host = "10.0.0.1"; $0.port = 7946 }
        }
        let noPort = Overlayd_V1_PingRequest.with { $0.probe = 2; $0.target = TestKeys.id(2).data; $0.targetEndpoint.host = "10.0.0.3" }
        let relayed = relay.onPingRequest(selfRequest, from: TestKeys.id(1), source: TestKeys.endpoint(1), now: Self.t0)
        #expect(relayed.isEmpty)
        let relayed2 = relay.onPingRequest(noPort, from: TestKeys.id(1), source: TestKeys.endpoint(1), now: Self.t0)
        #expect(relayed2.isEmpty)
    }

    // MARK: Reaping

    @Test func failedAndLeftMembersAreForgottenAfterTheirRetention() throws {
        var settings = MembershipSettings.radio
        settings.failedRetention = .seconds(300)
        settings.leftRetention = .seconds(120)
        var membership = MembershipFixture.make(settings: settings)
        membership.admit(4, at: Self.t0)
        membership.admit(Self.x, at: Self.t0)
        _ = membership.onClaim(Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0), now: Self.t0)
        _ = membership.onClaim(Claims.about(nil, by: TestKeys.signer(4), incarnation: 1, state: .left, at: Self.t0), now: Self.t0)
        _ = membership.start(now: Self.t0)

        _ = membership.advance(to: Self.t0 + .seconds(119))
        #expect(membership.state(of: 4) == .left)
        let leftReaped = membership.advance(to: Self.t0 + .seconds(120)).compactMap(\.directive.change)
        #expect(leftReaped == [MemberChange(id: TestKeys.id(4), name: "n-\(TestKeys.id(4).shortForm)", from: .left, to: nil, incarnation: 1)])
        #expect(membership.state(of: 4) == nil)
        #expect(membership.state(of: Self.x) == .failed)

        _ = membership.advance(to: Self.t0 + .seconds(299))
        #expect(membership.state(of: Self.x) == .failed)
        let failedReaped = membership.advance(to: Self.t0 + .seconds(300)).compactMap(\.directive.change)
        #expect(failedReaped.map(\.id) == [TestKeys.id(Self.x)])
        #expect(failedReaped.map(\.to) == [nil])
        #expect(membership.members.isEmpty)
    }

    @Test func aliveMembersAreNeverReaped() {
        var settings = MembershipSettings.radio
        settings.failedRetention = .seconds(1)
        settings.leftRetention = .seconds(1)
        var membership = MembershipFixture.make(settings: settings)
        membership.admit(Self.x, at: Self.t0)
        // Keep it answering: ack every ping.
        _ = membership.start(now: Self.t0)
        var now = Self.t0
        while let deadline = membership.nextDeadline, deadline <= Self.t0 + .seconds(200) {
            now = deadline
            for directive in membership.onTick(now: now) {
                if let ping = directive.ping { _ = membership.onAck(probe: ping.probe, from: ping.target, now: now) }
            }
        }
        #expect(membership.state(of: Self.x) == .alive)
    }

    @Test func reconnectSyncsWithAFailedMember() throws {
        var membership = MembershipFixture.make()
        membership.admit(Self.x, at: Self.t0)
        _ = membership.onClaim(Claims.about(TestKeys.id(Self.x), by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0), now: Self.t0)
        _ = membership.start(now: Self.t0)
        let fired = membership.advance(to: Self.t0 + .seconds(30))
        let syncs = fired.filter { if case .sync = $0.directive { true } else { false } }
        #expect(syncs.map(\.directive) == [.sync(to: Destination(id: TestKeys.id(Self.x), endpoint: TestKeys.endpoint(Self.x)), replyWanted: true)])
        #expect(syncs.first?.time == Self.t0 + .seconds(30))
    }

    @Test func aSeedThatIsNotALiveMemberIsReachedAgainWithABackoffToTheReconnectPace() throws {
        // Node 0 joined through node 5 while its other seed (node 9's address) was unreachable.
        // No probes within the test (members stay alive without acks to answer).
        let seed = Destination(id: nil, endpoint: TestKeys.endpoint(9))
        var settings = MembershipSettings.radio
        settings.probeInterval = .seconds(10_000)
        func membership(knowing others: [Int]) -> Membership {
            var membership = Membership(
                name: "local", endpoint: TestKeys.endpoint(0), incarnation: 1, signer: TestKeys.signer(0),
                settings: settings, joinTargets: [Destination(id: nil, endpoint: TestKeys.endpoint(Self.x)), seed],
                rng: DeterministicRandom(seed: 7), now: Self.t0)
            for index in others { membership.admit(index, at: Self.t0) }
            _ = membership.start(now: Self.t0)
            return membership
        }
        func seedSyncs(_ fired: [Timed]) -> [Instant] {
            fired.filter { $0.directive == .sync(to: seed, replyWanted: true) }.map(\.time)
        }
        var cutOff = membership(knowing: [Self.x])
        let times = seedSyncs(cutOff.advance(to: Self.t0 + .seconds(95)))
        // Found unmet at the start: first after the join-retry interval (2 s), then waits of
        // 4, 8 and 16 s, then every reconnect interval (30 s).
        #expect(times.map { ($0 - Self.t0).milliseconds / 1000 } == [2, 6, 14, 30, 60, 90], "\(times)")
        let waits = zip(times, times.dropFirst()).map { $1 - $0 }
        #expect(times.first == Self.t0 + settings.joinRetryInterval)
        #expect(waits.last == settings.reconnectInterval)
        #expect(waits.allSatisfy { $0 <= settings.reconnectInterval })
        // Once the seed's address is a live member's, it is left alone.
        var met = membership(knowing: [Self.x, 9])
        #expect(seedSyncs(met.advance(to: Self.t0 + .seconds(95))).isEmpty)
    }

    @Test func aSeedMetAndLostAgainStartsItsBackoffOver() {
        var backoff = SeedBackoff(initial: .seconds(2), maximum: .seconds(30))
        let seed = TestKeys.endpoint(9)
        func tries(at seconds: [Int64]) -> [Int64] {
            seconds.filter { !backoff.due(unmet: [seed], now: Self.t0 + .seconds($0)).isEmpty }
        }
        #expect(tries(at: Array(0...40)) == [2, 6, 14, 30], "2 s, then twice the wait up to 30 s")
        #expect(backoff.due(unmet: [], now: Self.t0 + .seconds(41)).isEmpty, "met: forgotten")
        #expect(tries(at: Array(42...50)) == [44, 48])
        #expect(SeedBackoff(initial: .seconds(5), maximum: .seconds(1)).maximum == .seconds(5), "never below the first wait")
    }
}
