import Foundation
import OverlayWire
import SwiftProtobuf
import Testing
@testable import OverlayCore

/// What the agent refuses: each refusal is counted under its reason and changes no membership.
@Suite struct AgentRejectTests {
    static let t0 = AgentFixture.t0

    /// Delivers `bytes` and checks it is refused for `reason` alone, with nothing else changed.
    static func expectRefused(
        _ bytes: Data, _ reason: RejectReason, in fixture: inout AgentFixture, at time: Instant = t0,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let before = fixture.view
        let countersBefore = fixture.agent.counters
        let members = fixture.agent.membership.sortedMembers
        let directives = fixture.deliver(bytes, at: time)
        #expect(directives == [.rejected(reason)], sourceLocation: sourceLocation)
        #expect(fixture.agent.counters.rejected[reason, default: 0] == countersBefore.rejected[reason, default: 0] + 1, sourceLocation: sourceLocation)
        let totalBefore = countersBefore.rejected.values.reduce(0, +)
        let totalAfter = fixture.agent.counters.rejected.values.reduce(0, +)
        #expect(totalAfter == totalBefore + 1, "nothing else was counted", sourceLocation: sourceLocation)
        #expect(fixture.agent.counters.datagramsReceived == countersBefore.datagramsReceived, sourceLocation: sourceLocation)
        #expect(fixture.agent.counters.itemsVerified == countersBefore.itemsVerified, "no item was looked at", sourceLocation: sourceLocation)
        #expect(fixture.view == before, sourceLocation: sourceLocation)
        #expect(fixture.agent.membership.sortedMembers == members, "not even last-heard times move", sourceLocation: sourceLocation)
    }

    @Test func signedDatagramFromAnAdmittedSenderIsAccepted() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        #expect(fixture.agent.membership.sortedMembers.map(\.id) == [TestKeys.id(1), TestKeys.id(2)])
        #expect(fixture.agent.counters.datagramsReceived == 1)
        #expect(fixture.agent.counters.itemsVerified == 2)
        #expect(fixture.agent.counters.rejected.isEmpty)
    }

    @Test func datagramFromAKeyOutsideTheKeyringIsRefusedBeforeAnyVerification() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let stranger = fixture.datagram(from: AgentFixture.outsider, items: [AgentFixture.alive(AgentFixture.outsider)])
        Self.expectRefused(stranger, .unknownSender, in: &fixture)
        #expect(fixture.agent.membership.members[TestKeys.id(AgentFixture.outsider)] == nil)
    }

    @Test func tamperedPacketByteFailsTheSignature() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let genuine = fixture.datagram(from: 1, message: .ping(.with { $0.probe = 5 }))
        let tampered = genuine.editingDatagram { $0.packet[$0.packet.count - 1] ^= 0x01 }  // probe 5 becomes 4
        #expect(tampered.count == genuine.count)
        #expect(tampered != genuine)
        Self.expectRefused(tampered, .badSignature, in: &fixture)
        // The refused copy did not advance the replay window: the genuine one still gets through.
        let answer = fixture.deliver(genuine)
        #expect(answer.count == 1)
        #expect(PacketKind.of(answer.first?.transmitted?.bytes ?? Data())?.kind == .ack(probe: 5))
    }

    @Test func signatureOfAnotherSenderFailsTheSignature() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let fromTwo = fixture.datagram(from: 2, message: .ping(.with { $0.probe = 5 }))
        let claimedByOne = fromTwo.editingDatagram { $0.sender = TestKeys.id(1).data }
        Self.expectRefused(claimedByOne, .badSignature, in: &fixture)
        let flippedSignature = fromTwo.editingDatagram { $0.signature[0] ^= 0x80 }
        Self.expectRefused(flippedSignature, .badSignature, in: &fixture)
    }

    @Test func exactReplayOfACapturedDatagramIsRefused() {
        var fixture = AgentFixture()
        let captured = fixture.datagram(from: 1, items: [AgentFixture.alive(1)])
        fixture.deliver(captured)
        #expect(fixture.agent.membership.members[TestKeys.id(1)]?.state == .alive)
        Self.expectRefused(captured, .replayed, in: &fixture, at: Self.t0 + .seconds(1))
        #expect(fixture.agent.counters.itemsDuplicate == 0, "the replay was refused before its items were looked at")
    }

    @Test func truncatedDatagramIsMalformed() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let whole = fixture.datagram(from: 1, items: [AgentFixture.alive(3)])
        Self.expectRefused(whole.prefix(whole.count - 10), .malformed, in: &fixture)
        Self.expectRefused(whole.prefix(40), .malformed, in: &fixture)
        Self.expectRefused(Data(), .malformed, in: &fixture)
        Self.expectRefused(Data([0xFF, 0xFF, 0xFF]), .malformed, in: &fixture)
        let shortSignature = whole.editingDatagram { $0.signature = $0.signature.prefix(63) }
        Self.expectRefused(shortSignature, .malformed, in: &fixture)
        let shortSender = whole.editingDatagram { $0.sender = $0.sender.prefix(31) }
        Self.expectRefused(shortSender, .malformed, in: &fixture)
        let garbledPacket = whole.editingDatagram { $0.packet = Data([0x0A, 0x50, 0x01]) }
        Self.expectRefused(garbledPacket, .malformed, in: &fixture)
        let accepted = fixture.deliver(whole).allSatisfy { $0.rejection == nil }
        #expect(accepted, "the intact datagram is still accepted")
        #expect(fixture.agent.membership.members[TestKeys.id(3)]?.state == .alive)
    }

    @Test func datagramLargerThanTheBudgetIsRefusedUnread() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        Self.expectRefused(Data(repeating: 0, count: WireFormat.datagramBudget + 1), .oversized, in: &fixture)
        let bigName = String(repeating: "x", count: 1_100)
        let signedButBig = fixture.datagram(from: 1, items: [AgentFixture.alive(3, name: bigName)])
        #expect(signedButBig.count > WireFormat.datagramBudget)
        Self.expectRefused(signedButBig, .oversized, in: &fixture)
    }

    @Test func datagramForAnotherRecipientIsMisdirected() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let forTwo = fixture.datagram(from: 1, to: TestKeys.id(2), message: .ping(.with { $0.probe = 1 }))
        Self.expectRefused(forTwo, .misdirected, in: &fixture)
        // Only a join (a sync to a seed whose key is unknown) may leave the recipient out.
        let anonymousPing = fixture.datagram(from: 1, to: nil, message: .ping(.with { $0.probe = 2 }))
        Self.expectRefused(anonymousPing, .misdirected, in: &fixture)
        // A join is let through the codec, and answered with a challenge (AgentJoinChallengeTests).
        let join = fixture.datagram(from: 3, to: nil, message: .sync(.with { $0.replyWanted = true }), items: [AgentFixture.alive(3)])
        let reply = fixture.deliver(join, from: 3)
        #expect(reply.first == .rejected(.unverifiedJoin))
        #expect(PacketKind.of(reply.last?.transmitted?.bytes ?? Data())?.kind == .joinChallenge)
    }

    @Test func datagramOutsideTheClockSkewWindowIsRefused() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let window = Duration.seconds(600)
        let old = fixture.datagram(from: 1, items: [AgentFixture.alive(3)], at: Self.t0)
        Self.expectRefused(old, .clockSkew, in: &fixture, at: Self.t0 + window + .milliseconds(1))
        let fromTheFuture = fixture.datagram(from: 2, items: [AgentFixture.alive(3)], at: Self.t0 + window + .seconds(1))
        Self.expectRefused(fromTheFuture, .clockSkew, in: &fixture, at: Self.t0)
        let late = fixture.datagram(from: 1, items: [AgentFixture.alive(4)], at: Self.t0)
        let accepted = fixture.deliver(late, at: Self.t0 + window).allSatisfy { $0.rejection == nil }
        #expect(accepted, "exactly at the edge of the window is still accepted")
        #expect(fixture.agent.membership.members[TestKeys.id(4)] != nil)
    }

    @Test func clockSkewCheckCanBeDisabled() {
        var fixture = AgentFixture { $0.clockSkewWindow = nil }
        let ancient = fixture.datagram(from: 1, items: [AgentFixture.alive(1)], at: Instant(milliseconds: 5))
        let accepted = fixture.deliver(ancient).allSatisfy { $0.rejection == nil }
        #expect(accepted)
        #expect(fixture.agent.counters.datagramsReceived == 1)
    }

    @Test func datagramOfAnotherProtocolVersionIsRefused() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let future = fixture.datagram(from: 1, items: [AgentFixture.alive(3)]).editingDatagram { $0.version = 2 }
        Self.expectRefused(future, .unsupportedVersion, in: &fixture)
        let unversioned = fixture.datagram(from: 1, items: [AgentFixture.alive(3)]).editingDatagram { $0.version = 0 }
        Self.expectRefused(unversioned, .malformed, in: &fixture)
    }

    @Test func senderAboveItsRateIsRefusedBeforeVerification() {
        var fixture = AgentFixture { $0.senderBurst = 2; $0.senderRatePerSecond = 1 }
        let first = fixture.datagram(from: 1, items: [AgentFixture.alive(1)])
        let second = fixture.datagram(from: 1)
        let third = fixture.datagram(from: 1, items: [AgentFixture.alive(3)])
        let accepted = fixture.deliver(first).allSatisfy { $0.rejection == nil }
        #expect(accepted)
        let accepted2 = fixture.deliver(second).allSatisfy { $0.rejection == nil }
        #expect(accepted2)
        Self.expectRefused(third, .rateLimited, in: &fixture)
        // A second later one token is back.
        let accepted3 = fixture.deliver(third, at: Self.t0 + .seconds(1)).allSatisfy { $0.rejection == nil }
        #expect(accepted3)
        #expect(fixture.agent.membership.members[TestKeys.id(3)] != nil)
    }

    // MARK: Items inside an accepted datagram

    /// Delivers one datagram from node 1 carrying `items`; checks it was accepted, and that
    /// exactly `reasons` were counted.
    static func deliverItems(
        _ items: [SignedItem], expecting reasons: [RejectReason], in fixture: inout AgentFixture,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let received = fixture.agent.counters.datagramsReceived
        let rejected = fixture.agent.counters.rejected
        let bytes = fixture.datagram(from: 1, items: items)
        let directives = fixture.deliver(bytes)
        #expect(fixture.agent.counters.datagramsReceived == received + 1, "the datagram itself is fine", sourceLocation: sourceLocation)
        #expect(directives.filter { if case .rejected = $0 { true } else { false } } == reasons.map { .rejected($0) }, sourceLocation: sourceLocation)
        for reason in Set(reasons) {
            #expect(fixture.agent.counters.rejected[reason, default: 0] == rejected[reason, default: 0] + reasons.count { $0 == reason }, sourceLocation: sourceLocation)
        }
    }

    @Test func itemWithAnInvalidOriginSignatureIsForged() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let before = fixture.view
        let verified = fixture.agent.counters.itemsVerified
        // Node 3 signs an ALIVE "from node 2" with a new endpoint and incarnation.
        var item = Overlayd_V1_Item()
        item.origin = TestKeys.id(2).data
        item.issuedAtMs = UInt64(Self.t0.milliseconds)
        item.kind = Membership.aliveKind(name: "hijacked", endpoint: PeerEndpoint(host: "203.0.113.9", port: 1), incarnation: 9)
        let itemBytes: Data = try! item.serializedBytes()
        var wire = Overlayd_V1_SignedItem()
        wire.item = itemBytes
        wire.signature = TestKeys.signer(3).sign(SigningDomain.item.message(for: itemBytes))
        let forged = SignedItem(wire: wire)!
        Self.deliverItems([forged], expecting: [.forgedItem], in: &fixture)
        #expect(fixture.view == before)
        #expect(fixture.agent.counters.itemsVerified == verified + 1)
        #expect(fixture.agent.queuedItems == 2, "the forgery is not passed on")
    }

    @Test func relayedItemAlteredOnTheWayIsForged() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let before = fixture.view
        let genuine = AgentFixture.alive(3)
        var wire = genuine.wire
        let name = Data("node3".utf8)
        let at = wire.item.range(of: name)!
        wire.item.replaceSubrange(at, with: Data("nodeX".utf8))
        let altered = SignedItem(wire: wire)!
        #expect(altered.claim?.name == "nodeX")
        Self.deliverItems([altered], expecting: [.forgedItem], in: &fixture)
        #expect(fixture.view == before)
        // The genuine one still verifies and is applied afterwards.
        Self.deliverItems([genuine], expecting: [], in: &fixture)
        #expect(fixture.agent.membership.members[TestKeys.id(3)]?.name == "node3")
    }

    @Test func itemFromAnOriginOutsideTheKeyringIsRefusedUnverified() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let before = fixture.view
        let verified = fixture.agent.counters.itemsVerified
        Self.deliverItems([AgentFixture.alive(AgentFixture.outsider)], expecting: [.unknownOrigin], in: &fixture)
        #expect(fixture.view == before)
        #expect(fixture.agent.counters.itemsVerified == verified)
    }

    @Test func aliveClaimSignedByAnotherMemberIsAnInvalidItem() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let before = fixture.view
        let aboutThree = SignedItem(kind: .member(.with {
            $0.subject = TestKeys.id(3).data
            $0.incarnation = 1
            $0.state = .alive
            $0.endpoint = .with { $0.host = "10.0.0.4"; $0.port = 7946 }
            $0.name = "node3"
        }), signer: TestKeys.signer(1), now: Self.t0)
        #expect(aboutThree.verify(with: FakeVerifier()), "the signature itself is genuine")
        Self.deliverItems([aboutThree], expecting: [.invalidItem], in: &fixture)
        #expect(fixture.view == before)
        #expect(fixture.agent.membership.members[TestKeys.id(3)] == nil)
    }

    @Test func undecodableItemIsAnInvalidItem() throws {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        let before = fixture.view
        var packet = Overlayd_V1_Packet()
        packet.message = .gossip(.init())
        packet.items = [
            .with { $0.item = Data([0x0A, 0x20, 0x01]); $0.signature = Data(repeating: 1, count: 64) },  // truncated origin
            .with { $0.item = AgentFixture.alive(3).wire.item; $0.signature = Data([1, 2, 3]) },          // short signature
        ]
        var codec = DatagramCodec(
            session: 9, signer: TestKeys.signer(4), verifier: FakeVerifier(), keyring: fixture.keyring,
            clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1, burst: 1))
        let directives = fixture.deliver(codec.seal(packet, to: TestKeys.id(0), now: Self.t0))
        #expect(directives == [.rejected(.invalidItem), .rejected(.invalidItem)])
        #expect(fixture.agent.counters.rejected[.invalidItem] == 2)
        #expect(fixture.view == before)
    }

    @Test func duplicateItemIsNotVerifiedTwice() {
        var fixture = AgentFixture()
        let three = AgentFixture.alive(3)
        let viaOne = fixture.datagram(from: 1, items: [AgentFixture.alive(1), three])
        let viaTwo = fixture.datagram(from: 2, items: [AgentFixture.alive(2), three])
        fixture.deliver(viaOne)
        #expect(fixture.agent.counters.itemsVerified == 2)
        #expect(fixture.agent.counters.itemsDuplicate == 0)
        fixture.deliver(viaTwo)
        #expect(fixture.agent.counters.itemsVerified == 3, "only node 2's own claim is new")
        #expect(fixture.agent.counters.itemsDuplicate == 1)
        #expect(fixture.agent.membership.sortedMembers.map(\.id) == [TestKeys.id(1), TestKeys.id(2), TestKeys.id(3)])
    }

    @Test func ownItemsEchoedBackAreNotVerified() {
        var fixture = AgentFixture()
        _ = fixture.agent.start(now: Self.t0)
        let own = fixture.agent.membership.localClaim
        Self.deliverItems([own], expecting: [], in: &fixture)
        #expect(fixture.agent.counters.itemsVerified == 0)
        #expect(fixture.agent.counters.itemsDuplicate == 1)
    }

    @Test func oneBadItemDoesNotSpoilTheRestOfTheDatagram() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        Self.deliverItems(
            [AgentFixture.alive(AgentFixture.outsider), AgentFixture.alive(3), AgentFixture.alive(4)],
            expecting: [.unknownOrigin], in: &fixture)
        #expect(fixture.agent.membership.sortedMembers.map(\.id) == [1, 2, 3, 4].map(TestKeys.id))
    }

    @Test func removingAKeyFromTheKeyringSilencesItsOwner() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        var keyring = fixture.keyring
        keyring.insert(Keyring.Entry(id: TestKeys.id(2), validUntil: Self.t0))
        fixture.agent.updateKeyring(keyring)
        let fromTwo = fixture.datagram(from: 2, items: [AgentFixture.alive(3)])
        Self.expectRefused(fromTwo, .unknownSender, in: &fixture)
        Self.deliverItems([AgentFixture.alive(2, incarnation: 2)], expecting: [.unknownOrigin], in: &fixture)
        #expect(fixture.agent.membership.members[TestKeys.id(2)]?.incarnation == 1)
    }
}
