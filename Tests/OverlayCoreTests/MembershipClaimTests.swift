import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// SWIM 4.2 claim precedence, refutation and claim rules, on a bare ``Membership``.
@Suite struct MembershipClaimTests {
    static let t0 = Instant(milliseconds: 1_000)
    static let x = 5  // the member claims are about
    static var xID: NodeID { TestKeys.id(x) }

    /// Node 0 knowing node 5 alive at incarnation 1.
    static func knowingX(incarnation: UInt64 = 1) -> Membership {
        var membership = MembershipFixture.make()
        membership.admit(x, incarnation: incarnation, at: t0)
        return membership
    }

    @Test func newMemberIsAddedAliveAndItsClaimRebroadcast() throws {
        var membership = MembershipFixture.make()
        let claim = Claims.alive(TestKeys.signer(Self.x), incarnation: 4, name: "x", endpoint: TestKeys.endpoint(Self.x), at: Self.t0)
        let result = membership.onClaim(claim, now: Self.t0)
        let directives = try #require(result)
        #expect(directives == [
            .broadcast(claim),
            .changed(MemberChange(id: Self.xID, name: "x", from: nil, to: .alive, incarnation: 4)),
        ])
        let member = try #require(membership.members[Self.xID])
        #expect(member.state == .alive)
        #expect(member.incarnation == 4)
        #expect(member.endpoint == TestKeys.endpoint(Self.x))
        #expect(member.name == "x")
        #expect(membership.liveCount == 2)
    }

    @Test func aliveAtTheSameIncarnationDoesNotOverrideSuspect() throws {
        var membership = Self.knowingX()
        _ = membership.onClaim(Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0), now: Self.t0)
        #expect(membership.state(of: Self.x) == .suspect)
        // A fresh copy of the same ALIVE (a later issued_at, so different bytes).
        let stale = Claims.alive(TestKeys.signer(Self.x), incarnation: 1, endpoint: TestKeys.endpoint(Self.x), at: Self.t0 + .seconds(1))
        let result = membership.onClaim(stale, now: Self.t0 + .seconds(1))
        let directives = try #require(result)
        #expect(directives.isEmpty)
        #expect(membership.state(of: Self.x) == .suspect)
    }

    @Test func failedOverridesSuspectAtTheSameIncarnation() throws {
        var membership = Self.knowingX()
        _ = membership.onClaim(Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0), now: Self.t0)
        let failed = Claims.about(Self.xID, by: TestKeys.signer(2), incarnation: 1, state: .failed, at: Self.t0)
        let result = membership.onClaim(failed, now: Self.t0 + .seconds(2))
        let directives = try #require(result)
        #expect(directives.compactMap(\.broadcastItem) == [failed])
        #expect(directives.compactMap(\.change).map(\.to) == [.failed])
        #expect(directives.compactMap(\.change).map(\.from) == [.suspect])
        let member = try #require(membership.members[Self.xID])
        #expect(member.state == .failed)
        #expect(member.stateSince == Self.t0 + .seconds(2))
    }

    @Test func suspectDoesNotOverrideFailedAtTheSameIncarnation() throws {
        var membership = Self.knowingX()
        _ = membership.onClaim(Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0), now: Self.t0)
        let late = Claims.about(Self.xID, by: TestKeys.signer(2), incarnation: 1, state: .suspect, at: Self.t0)
        let ignored = membership.onClaim(late, now: Self.t0)
        #expect(try #require(ignored).isEmpty)
        #expect(membership.state(of: Self.x) == .failed)
    }

    @Test func higherIncarnationAliveOverridesFailed() throws {
        var membership = Self.knowingX()
        _ = membership.onClaim(Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0), now: Self.t0)
        let back = Claims.alive(TestKeys.signer(Self.x), incarnation: 2, name: "x2", endpoint: PeerEndpoint(host: "10.9.9.9", port: 1), at: Self.t0)
        let result = membership.onClaim(back, now: Self.t0 + .seconds(5))
        let directives = try #require(result)
        #expect(directives.compactMap(\.change) == [MemberChange(id: Self.xID, name: "x2", from: .failed, to: .alive, incarnation: 2)])
        let member = try #require(membership.members[Self.xID])
        #expect(member.state == .alive)
        #expect(member.incarnation == 2)
        #expect(member.endpoint == PeerEndpoint(host: "10.9.9.9", port: 1), "the new ALIVE carries the new endpoint")
        #expect(membership.fullState().contains(back))
    }

    @Test func claimsAboutAnOlderIncarnationAreIgnored() throws {
        var membership = Self.knowingX(incarnation: 3)
        for state in [MemberState.suspect, .failed] {
            let old = Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 2, state: state, at: Self.t0)
            let ignored = membership.onClaim(old, now: Self.t0)
            #expect(try #require(ignored).isEmpty)
        }
        #expect(membership.state(of: Self.x) == .alive)
        #expect(membership.members[Self.xID]?.incarnation == 3)
    }

    @Test func leftOverridesFailedAndIsFinalForTheIncarnation() throws {
        var membership = Self.knowingX()
        _ = membership.onClaim(Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0), now: Self.t0)
        let left = Claims.about(nil, by: TestKeys.signer(Self.x), incarnation: 1, state: .left, at: Self.t0)
        let result = membership.onClaim(left, now: Self.t0)
        #expect(try #require(result).compactMap(\.change).map(\.to) == [.left])
        let failedAgain = Claims.about(Self.xID, by: TestKeys.signer(2), incarnation: 1, state: .failed, at: Self.t0)
        let ignored = membership.onClaim(failedAgain, now: Self.t0)
        #expect(try #require(ignored).isEmpty)
        #expect(membership.state(of: Self.x) == .left)
    }

    @Test func claimsOtherThanAliveAboutAnUnknownMemberAreIgnored() throws {
        var membership = MembershipFixture.make()
        for state in [MemberState.suspect, .failed] {
            let claim = Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: state, at: Self.t0)
            let ignored = membership.onClaim(claim, now: Self.t0)
            #expect(try #require(ignored).isEmpty)
        }
        #expect(membership.members.isEmpty)
    }

    @Test func aliveClaimSignedBySomeoneOtherThanItsSubjectIsRejected() {
        var membership = MembershipFixture.make()
        let forged = SignedItem(kind: .member(.with {
            $0.subject = Self.xID.data
            $0.incarnation = 9
            $0.state = .alive
            $0.endpoint = .with { $0.host = "10.6.6.6"; $0.port = 7946 }
            $0.name = "impostor"
        }), signer: TestKeys.signer(1), now: Self.t0)
        let refused = membership.onClaim(forged, now: Self.t0)
        #expect(refused == nil)
        #expect(membership.members.isEmpty)
    }

    @Test func leftClaimSignedBySomeoneOtherThanItsSubjectIsRejected() {
        var membership = Self.knowingX()
        let forged = Claims.about(Self.xID, by: TestKeys.signer(1), incarnation: 1, state: .left, at: Self.t0)
        let refused = membership.onClaim(forged, now: Self.t0)
        #expect(refused == nil)
        #expect(membership.state(of: Self.x) == .alive)
    }

    @Test func aliveClaimWithoutAUsableEndpointIsRejected() {
        var membership = MembershipFixture.make()
        let noPort = Claims.alive(TestKeys.signer(Self.x), incarnation: 1, endpoint: PeerEndpoint(host: "10.0.0.5", port: 0), at: Self.t0)
        let noHost = Claims.alive(TestKeys.signer(Self.x), incarnation: 1, endpoint: PeerEndpoint(host: "", port: 7946), at: Self.t0)
        let refused = membership.onClaim(noPort, now: Self.t0)
        #expect(refused == nil)
        let refused2 = membership.onClaim(noHost, now: Self.t0)
        #expect(refused2 == nil)
        #expect(membership.members.isEmpty)
    }

    @Test func claimWithUnspecifiedStateIsRejected() {
        var membership = Self.knowingX()
        let odd = SignedItem(kind: .member(.with { $0.subject = Self.xID.data; $0.incarnation = 5 }), signer: TestKeys.signer(1), now: Self.t0)
        let refused = membership.onClaim(odd, now: Self.t0)
        #expect(refused == nil)
        #expect(membership.members[Self.xID]?.incarnation == 1)
    }

    // MARK: Refutation (SWIM 4.2, Lifeguard 3.1)

    @Test func suspectAboutItselfAtItsIncarnationIsRefutedWithTheNextIncarnation() throws {
        var membership = MembershipFixture.make()
        let suspicion = Claims.about(MembershipFixture.local.nodeID, by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0)
        let result = membership.onClaim(suspicion, now: Self.t0)
        let directives = try #require(result)
        #expect(membership.incarnation == 2)
        #expect(directives == [.broadcast(membership.localClaim), .incarnationChanged(2)])
        let claim = try #require(membership.localClaim.claim)
        #expect(claim.state == .alive)
        #expect(claim.incarnation == 2)
        #expect(claim.name == "local")
        #expect(membership.localClaim.verify(with: FakeVerifier()))
        #expect(membership.localHealthScore == 1, "Lifeguard 3.1: having to refute is a sign of local trouble")
    }

    @Test func suspicionOfAnOlderIncarnationNeedsNoRefutation() throws {
        var membership = MembershipFixture.make()
        _ = membership.onClaim(Claims.about(MembershipFixture.local.nodeID, by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0), now: Self.t0)
        #expect(membership.incarnation == 2)
        let late = Claims.about(MembershipFixture.local.nodeID, by: TestKeys.signer(2), incarnation: 1, state: .suspect, at: Self.t0)
        let ignored = membership.onClaim(late, now: Self.t0)
        #expect(try #require(ignored).isEmpty)
        #expect(membership.incarnation == 2)
    }

    @Test func failedAboutItselfIsRefutedToo() throws {
        var membership = MembershipFixture.make()
        let failed = Claims.about(MembershipFixture.local.nodeID, by: TestKeys.signer(1), incarnation: 1, state: .failed, at: Self.t0)
        let result = membership.onClaim(failed, now: Self.t0)
        let directives = try #require(result)
        #expect(directives.contains(.incarnationChanged(2)))
        #expect(membership.localClaim.claim?.state == .alive)
    }

    @Test func ownAliveFromBeforeARestartIsContinuedAbove() throws {
        var membership = MembershipFixture.make()  // incarnation 1, but the cloud still has our incarnation-7 claim
        let previousLife = Claims.alive(MembershipFixture.local, incarnation: 7, endpoint: TestKeys.endpoint(0), at: Self.t0)
        let result = membership.onClaim(previousLife, now: Self.t0)
        let directives = try #require(result)
        #expect(membership.incarnation == 8)
        #expect(directives.contains(.incarnationChanged(8)))
        #expect(membership.localHealthScore == 0)
    }

    @Test func aNodeThatLeftNoLongerRefutes() throws {
        var membership = MembershipFixture.make()
        let leave = membership.leave(now: Self.t0)
        #expect(leave.compactMap(\.broadcastItem).first?.claim?.state == .left)
        let leftAgain = membership.leave(now: Self.t0)
        #expect(leftAgain.isEmpty, "leaving twice signs nothing new")
        let suspicion = Claims.about(MembershipFixture.local.nodeID, by: TestKeys.signer(1), incarnation: 1, state: .suspect, at: Self.t0)
        let ignored = membership.onClaim(suspicion, now: Self.t0)
        #expect(try #require(ignored).isEmpty)
        #expect(membership.incarnation == 1)
    }
}
