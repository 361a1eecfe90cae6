import Foundation
import OverlayWire
import SwiftProtobuf
import Testing
@testable import OverlayCore

/// The join challenge: a member sends its state to a joiner's address only after the joiner
/// answered a challenge from that address (``JoinGate``, ``JoinCookieJar``).
@Suite struct AgentJoinChallengeTests {
    static let t0 = AgentFixture.t0
    static let keyring = TestKeys.keyring(count: 5)

    /// Node `index` as an agent; `seeds` are the endpoints of the nodes it joins through.
    static func agent(_ index: Int, seeds: [Int] = [], name: String? = nil, host: String? = nil) -> Agent {
        let endpoint = host.map { PeerEndpoint(host: $0, port: 1) } ?? TestKeys.endpoint(index)
        let settings = AgentSettings(name: name ?? "node\(index)", endpoint: endpoint)
        return Agent(
            settings: settings, signer: TestKeys.signer(index), verifier: FakeVerifier(), keyring: keyring,
            session: 10 + UInt64(index), incarnation: 1, joinTargets: seeds.map { Destination(id: nil, endpoint: TestKeys.endpoint($0)) },
            seed: UInt64(index), now: t0, bootstrapView: seeds.isEmpty)
    }

    static func transmissions(_ directives: [AgentDirective]) -> [(bytes: Data, to: PeerEndpoint)] {
        directives.compactMap(\.transmitted)
    }

    static func challenge(in bytes: Data) -> Overlayd_V1_JoinChallenge? {
        guard case .joinChallenge(let challenge)? = PacketKind.of(bytes)?.packet.message else { return nil }
        return challenge
    }

    @Test func aJoinWithoutACookieGetsOnlyAChallengeNoLargerThanItself() throws {
        var member = Self.agent(0)
        var joiner = Self.agent(3, seeds: [0])
        let join = try #require(Self.transmissions(joiner.start(now: Self.t0)).first)
        #expect(join.to == TestKeys.endpoint(0))
        let before = member.membership.sortedMembers
        let answer = member.onDatagram(join.bytes, from: TestKeys.endpoint(3), now: Self.t0)
        #expect(answer.first == .rejected(.unverifiedJoin))
        #expect(member.counters.rejected[.unverifiedJoin] == 1)
        #expect(member.counters.datagramsReceived == 0, "the join is not taken in")
        #expect(member.counters.itemsVerified == 0, "its claims are not even looked at")
        #expect(member.membership.sortedMembers == before)
        let sent = Self.transmissions(answer)
        #expect(sent.count == 1)
        let reply = try #require(sent.first)
        #expect(reply.to == TestKeys.endpoint(3), "the challenge goes to the address the join came from")
        #expect(Self.challenge(in: reply.bytes) != nil)
        #expect(reply.bytes.count <= join.bytes.count, "challenge \(reply.bytes.count) bytes, join \(join.bytes.count)")
        #expect(PacketKind.of(reply.bytes)?.packet.recipient == TestKeys.id(3).data, "addressed to the joiner's key")
    }

    @Test func theJoinerAnswersFromItsAddressAndThenGetsTheState() throws {
        var member = Self.agent(0)
        var joiner = Self.agent(3, seeds: [0])
        let join = try #require(Self.transmissions(joiner.start(now: Self.t0)).first)
        let challenge = try #require(Self.transmissions(member.onDatagram(join.bytes, from: TestKeys.endpoint(3), now: Self.t0)).first)
        let again = Self.transmissions(joiner.onDatagram(challenge.bytes, from: TestKeys.endpoint(0), now: Self.t0 + .milliseconds(5)))
        let cookieJoin = try #require(again.first)
        #expect(cookieJoin.to == TestKeys.endpoint(0))
        guard case .sync(let sync)? = PacketKind.of(cookieJoin.bytes)?.packet.message else {
            Issue.record("the answer is not a join")
            return
        }
        #expect(sync.replyWanted)
        #expect(sync.joinCookie == Self.challenge(in: challenge.bytes))
        let state = member.onDatagram(cookieJoin.bytes, from: TestKeys.endpoint(3), now: Self.t0 + .milliseconds(10))
        #expect(!state.contains { $0.rejection != nil })
        #expect(member.membership.members[TestKeys.id(3)]?.state == .alive)
        let replies = Self.transmissions(state)
        #expect(!replies.isEmpty && replies.allSatisfy { $0.to == TestKeys.endpoint(3) })
        #expect(replies.contains { PacketKind.of($0.bytes)?.kind == .sync(replyWanted: false) }, "the member's state")

        // A second challenge for the same join is not answered (no loop with a seed that keeps
        // refusing); the next join attempt carries the cookie from the start.
        #expect(Self.transmissions(joiner.onDatagram(challenge.bytes, from: TestKeys.endpoint(0), now: Self.t0 + .milliseconds(20))).isEmpty)
        let later = Self.transmissions(joiner.onTick(now: Self.t0 + .seconds(2))).filter { $0.to == TestKeys.endpoint(0) }
        #expect(!later.isEmpty, "the join timer tries the seed again")
        for datagram in later {
            guard case .sync(let sync)? = PacketKind.of(datagram.bytes)?.packet.message, PacketKind.of(datagram.bytes)?.packet.recipient.isEmpty == true else { continue }
            #expect(sync.joinCookie == Self.challenge(in: challenge.bytes))
        }
    }

    @Test func aCookieIsBoundToTheAddressAndToItsIssuer() throws {
        var member = Self.agent(0)
        var other = Self.agent(1)
        var joiner = Self.agent(3, seeds: [0])
        let join = try #require(Self.transmissions(joiner.start(now: Self.t0)).first)
        let challenge = try #require(Self.transmissions(member.onDatagram(join.bytes, from: TestKeys.endpoint(3), now: Self.t0)).first)
        let cookieJoin = try #require(Self.transmissions(joiner.onDatagram(challenge.bytes, from: TestKeys.endpoint(0), now: Self.t0)).first)

        // Captured and replayed from the victim's address (node 4) to the issuer.
        let spoofed = member.onDatagram(cookieJoin.bytes, from: TestKeys.endpoint(4), now: Self.t0)
        #expect(spoofed.first == .rejected(.unverifiedJoin))
        #expect(Self.transmissions(spoofed).allSatisfy { $0.to == TestKeys.endpoint(4) && $0.bytes.count <= cookieJoin.bytes.count })
        #expect(member.membership.members[TestKeys.id(3)] == nil)

        // Redirected to another member, from the joiner's own address.
        let redirected = other.onDatagram(cookieJoin.bytes, from: TestKeys.endpoint(3), now: Self.t0)
        #expect(redirected.first == .rejected(.unverifiedJoin))
        #expect(Self.transmissions(redirected).allSatisfy { Self.challenge(in: $0.bytes) != nil && $0.bytes.count <= cookieJoin.bytes.count })
        #expect(other.membership.members[TestKeys.id(3)] == nil)
    }

    @Test func aChallengeFromAnAddressThisNodeDidNotJoinIsIgnored() throws {
        var member = Self.agent(0)
        var joiner = Self.agent(3, seeds: [0])
        var bystander = Self.agent(4, seeds: [1])
        _ = bystander.start(now: Self.t0)
        let join = try #require(Self.transmissions(joiner.start(now: Self.t0)).first)
        // Node 3's join replayed to node 0 from node 4's address: the challenge reaches node 4,
        // which never sent a join to node 0.
        let captured = join.bytes
        let challenge = try #require(Self.transmissions(member.onDatagram(captured, from: TestKeys.endpoint(4), now: Self.t0)).first)
        #expect(challenge.to == TestKeys.endpoint(4))
        // Addressed to node 3's key, so node 4 refuses it outright.
        let atBystander = bystander.onDatagram(challenge.bytes, from: TestKeys.endpoint(0), now: Self.t0)
        #expect(atBystander == [.rejected(.misdirected)])
        // And node 3, which did join node 0, ignores a challenge that comes from elsewhere.
        let fromElsewhere = joiner.onDatagram(challenge.bytes, from: TestKeys.endpoint(1), now: Self.t0)
        #expect(Self.transmissions(fromElsewhere).isEmpty)
    }

    @Test func cookiesExpireAndDieWithTheIssuersSession() {
        let gate = JoinGate(signer: TestKeys.signer(0), verifier: FakeVerifier(), session: 7)
        let address = TestKeys.endpoint(3)
        let cookie = gate.challenge(for: TestKeys.id(3), at: address, now: Self.t0)
        #expect(gate.verifies(cookie, from: TestKeys.id(3), at: address, now: Self.t0))
        #expect(gate.verifies(cookie, from: TestKeys.id(3), at: address, now: Self.t0 + JoinGate.cookieLifetime - .milliseconds(1)))
        #expect(!gate.verifies(cookie, from: TestKeys.id(3), at: address, now: Self.t0 + JoinGate.cookieLifetime))
        #expect(!gate.verifies(cookie, from: TestKeys.id(2), at: address, now: Self.t0), "another joiner's key")
        #expect(!gate.verifies(cookie, from: TestKeys.id(3), at: TestKeys.endpoint(2), now: Self.t0), "another address")
        let restarted = JoinGate(signer: TestKeys.signer(0), verifier: FakeVerifier(), session: 8)
        #expect(!restarted.verifies(cookie, from: TestKeys.id(3), at: address, now: Self.t0), "the issuer restarted")
        var shifted = cookie
        shifted.issuedAtMs += 1
        #expect(!gate.verifies(shifted, from: TestKeys.id(3), at: address, now: Self.t0), "the issue time is signed")
        var future = gate.challenge(for: TestKeys.id(3), at: address, now: Self.t0 + JoinGate.clockStepTolerance + .seconds(1))
        #expect(!gate.verifies(future, from: TestKeys.id(3), at: address, now: Self.t0), "issued in this node's future")
        future.cookie = Data(future.cookie.prefix(10))
        #expect(!gate.verifies(future, from: TestKeys.id(3), at: address, now: Self.t0 + .seconds(10)))
    }

    @Test func theLargestChallengeFitsTheBoundAndTheSmallestJoinIsPaddedToIt() throws {
        var packet = Overlayd_V1_Packet()
        packet.recipient = Data(repeating: 0xFF, count: WireFormat.keyLength)
        packet.session = .max
        packet.sequence = .max
        packet.sentAtMs = .max
        packet.message = .joinChallenge(.with {
            $0.issuedAtMs = .max
            $0.cookie = Data(repeating: 0xFF, count: WireFormat.signatureLength)
        })
        var datagram = Overlayd_V1_Datagram()
        datagram.version = WireFormat.version
        datagram.sender = Data(repeating: 0xFF, count: WireFormat.keyLength)
        datagram.packet = try packet.serializedBytes()
        datagram.signature = Data(repeating: 0xFF, count: WireFormat.signatureLength)
        let largest: Data = try datagram.serializedBytes()
        #expect(largest.count <= JoinGate.largestChallenge)

        // A joiner with the shortest name and address there is, and no view.
        var tiny = Self.agent(3, seeds: [0], name: "", host: "h")
        let join = try #require(Self.transmissions(tiny.start(now: Self.t0)).first)
        #expect(join.bytes.count >= JoinGate.largestChallenge)
        var member = Self.agent(0)
        let answer = member.onDatagram(join.bytes, from: TestKeys.endpoint(3), now: Self.t0)
        #expect(Self.transmissions(answer).count == 1, "the challenge fits")
    }
}
