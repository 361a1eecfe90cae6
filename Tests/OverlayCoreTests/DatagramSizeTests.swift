import Foundation
import OverlayWire
import SwiftProtobuf
import Testing
@testable import OverlayCore

/// Every datagram the agent sends fits ``WireFormat/datagramBudget``, however much it has to say.
@Suite struct DatagramSizeTests {
    static let t0 = AgentFixture.t0
    static let budget = WireFormat.datagramBudget

    /// Node 0 knowing nodes 1...60, each with a name long enough to make its claim ~150 bytes.
    static func agentKnowingSixty() -> AgentFixture {
        var fixture = AgentFixture(admitted: 61)
        for index in 1...60 {
            let claim = AgentFixture.alive(index, name: "member-\(index)-" + String(repeating: "n", count: 40))
            fixture.deliver(fixture.datagram(from: index, items: [claim]))
        }
        return fixture
    }

    static func transmissions(_ directives: [AgentDirective]) -> [(bytes: Data, packet: Overlayd_V1_Packet, kind: PacketKind)] {
        directives.compactMap(\.transmitted).compactMap { sent in
            PacketKind.of(sent.bytes).map { (sent.bytes, $0.packet, $0.kind) }
        }
    }

    @Test func pushPullOfSixtyMembersIsSplitIntoDatagramsWithinTheBudget() throws {
        var fixture = Self.agentKnowingSixty()
        #expect(fixture.agent.membership.members.count == 60)
        let request = fixture.datagram(from: 7, message: .sync(.with { $0.replyWanted = true }))
        let reply = Self.transmissions(fixture.deliver(request, at: Self.t0 + .seconds(1)))

        #expect(reply.count > 5, "60 claims of ~150 bytes need several datagrams (got \(reply.count))")
        #expect(reply.allSatisfy { $0.bytes.count <= Self.budget })
        #expect(reply.allSatisfy { $0.kind == .sync(replyWanted: false) }, "a reply never asks for a reply")
        // Every datagram but the last is well filled.
        #expect(reply.dropLast().allSatisfy { $0.bytes.count > Self.budget - 200 })
        // Together they carry the full state, each claim once, in order.
        let carried = reply.flatMap(\.packet.items)
        let expected = fixture.agent.membership.fullState().map(\.wire)
        #expect(carried.count == 61)
        #expect(carried == expected)
        #expect(fixture.agent.counters.datagramsSent == reply.count)
        #expect(fixture.agent.counters.bytesSent == reply.map(\.bytes.count).reduce(0, +))
    }

    @Test func periodicPushPullAsksForAReplyOnlyInItsFirstDatagram() throws {
        var fixture = Self.agentKnowingSixty()
        var directives = fixture.agent.start(now: Self.t0)
        var now = Self.t0
        // Tick until the push-pull timer (30 s) has fired; answer nothing.
        while let wakeup = fixture.agent.nextWakeup, wakeup <= Self.t0 + .seconds(30) {
            now = wakeup
            directives += fixture.agent.onTick(now: now)
        }
        let sent = Self.transmissions(directives)
        #expect(sent.allSatisfy { $0.bytes.count <= Self.budget })
        let syncs = sent.filter { if case .sync = $0.kind { true } else { false } }
        // Push-pull and reconnect each send one burst: only its first datagram asks for a reply.
        var bursts: [[Overlayd_V1_Packet]] = []
        for sync in syncs {
            if sync.kind == .sync(replyWanted: true) || bursts.isEmpty { bursts.append([sync.packet]) } else { bursts[bursts.count - 1].append(sync.packet) }
        }
        #expect(!bursts.isEmpty)
        #expect(bursts.contains { $0.count > 5 }, "the full state of 61 members takes several datagrams")
        for burst in bursts {
            #expect(Set(burst.map(\.recipient)).count == 1, "a burst goes to one member")
            #expect(burst.flatMap(\.items).count >= 61)
        }
    }

    @Test func piggybackingFromALargeQueueStaysWithinTheBudget() throws {
        var fixture = Self.agentKnowingSixty()
        #expect(fixture.agent.queuedItems >= 60)
        let ping = fixture.datagram(from: 5, message: .ping(.with { $0.probe = 42 }))
        let answer = Self.transmissions(fixture.deliver(ping, at: Self.t0 + .seconds(1)))
        let ack = try #require(answer.first)
        #expect(answer.count == 1)
        #expect(ack.kind == .ack(probe: 42))
        #expect(ack.bytes.count <= Self.budget)
        #expect(ack.bytes.count > Self.budget - 200, "items are packed to fill the datagram (\(ack.bytes.count) bytes)")
        #expect(ack.packet.items.count >= 5)
    }

    /// A name that makes node `index`'s ALIVE claim exactly `size` encoded bytes.
    static func name(forClaimOf index: Int, size: Int) -> String {
        var length = 1
        while AgentFixture.alive(index, name: String(repeating: "m", count: length)).encodedSize < size { length += 1 }
        return String(repeating: "m", count: length)
    }

    @Test func everyKindOfDatagramStaysWithinTheBudgetWithTheLargestItemsAndFields() throws {
        // Worst case everywhere: the largest items the queue accepts, long host names, and
        // header fields at their widest varints (session, incarnation, clock, probe numbers).
        let late = Instant(milliseconds: Int64.max / 4)
        let longHost = String(repeating: "h", count: 200)
        func largest(_ index: Int) -> SignedItem {
            var length = 1
            while true {
                let item = Claims.alive(
                    TestKeys.signer(index), incarnation: .max, name: String(repeating: "m", count: length),
                    endpoint: PeerEndpoint(host: longHost, port: 65_535), at: late)
                if item.encodedSize >= Agent.maxItemSize { return item }
                length += 1
            }
        }
        let one = largest(1), three = largest(3)
        try #require(one.encodedSize == Agent.maxItemSize && three.encodedSize == Agent.maxItemSize)

        var settings = AgentSettings(name: "node0", endpoint: TestKeys.endpoint(0))
        settings.clockSkewWindow = nil
        settings.membership.retransmitMultiplier = 1_000  // keep the large items queued all along
        var fixture = AgentFixture(admitted: 4)
        var agent = Agent(
            settings: settings, signer: TestKeys.signer(0), verifier: FakeVerifier(), keyring: fixture.keyring,
            session: .max - 1, incarnation: .max / 2, joinTargets: [], seed: 1, now: late)
        var directives = agent.start(now: late)
        func receive(_ bytes: Data, at time: Instant) {
            #expect(bytes.count <= Self.budget)
            directives += agent.onDatagram(bytes, from: TestKeys.endpoint(1), now: time)
        }
        receive(fixture.datagram(from: 2, items: [AgentFixture.alive(2)], at: late), at: late)
        receive(fixture.datagram(from: 1, items: [one], at: late), at: late)
        receive(fixture.datagram(from: 3, items: [three], at: late), at: late)
        #expect(agent.membership.members.count == 3)
        receive(fixture.datagram(from: 1, message: .ping(.with { $0.probe = .max }), at: late), at: late)
        receive(fixture.datagram(from: 1, message: .pingRequest(.with {
            $0.probe = .max
            $0.target = TestKeys.id(3).data
            $0.targetEndpoint = .with { $0.host = longHost; $0.port = 65_535 }
        }), at: late), at: late)
        receive(fixture.datagram(from: 2, message: .sync(.with { $0.replyWanted = true }), at: late), at: late)
        // Nobody answers: probes go indirect, the relay nacks, gossip and push-pull rounds run.
        while let wakeup = agent.nextWakeup, wakeup <= late + .seconds(40) {
            directives += agent.onTick(now: wakeup)
        }

        let sent = Self.transmissions(directives)
        #expect(sent.count == directives.compactMap(\.transmitted).count, "every datagram decodes")
        for datagram in sent {
            #expect(datagram.bytes.count <= Self.budget, "\(datagram.kind) is \(datagram.bytes.count) bytes")
        }
        #expect(sent.contains { $0.kind.isPing })
        #expect(sent.contains { $0.kind == .ack(probe: .max) })
        #expect(sent.contains { $0.kind.isPingRequest(target: TestKeys.id(3)) || $0.kind.isPingRequest(target: TestKeys.id(1)) })
        #expect(sent.contains { $0.kind == .nack(probe: .max) })
        #expect(sent.contains { $0.kind == .gossip })
        #expect(sent.contains { $0.kind == .sync(replyWanted: false) })
        #expect(sent.contains { $0.kind == .sync(replyWanted: true) })
        let withLargeItem = sent.filter { $0.packet.items.contains(one.wire) || $0.packet.items.contains(three.wire) }
        #expect(withLargeItem.count > 10)
        #expect(sent.map(\.bytes.count).max()! > Self.budget - 60, "the worst case comes close to the budget")
    }

    @Test func itemTooLargeForAnyDatagramIsRefusedWhenQueued() {
        let name = Self.name(forClaimOf: 3, size: Agent.maxItemSize + 1)
        let tooLarge = AgentFixture.alive(3, name: name)
        #expect(tooLarge.encodedSize == Agent.maxItemSize + 1)
        var queue = Dissemination(maxItemSize: Agent.maxItemSize)
        let queued = queue.enqueue(tooLarge)
        #expect(!queued)
        #expect(queue.isEmpty)
    }

    @Test func claimTooLargeToRelayIsRefusedOnArrivalAndPushPullStillAnswers() throws {
        // Node 1 packs a 1,030-byte ALIVE claim into a tight gossip datagram: it arrives within
        // the budget, but no sync packet (1,020 bytes for items at most) could ever carry it,
        // so it is refused as invalid rather than accepted and never relayed.
        var fixture = AgentFixture()
        let big = AgentFixture.alive(1, name: Self.name(forClaimOf: 1, size: 1_030))
        let tight = fixture.datagram(from: 1, items: [big])
        #expect(tight.count <= Self.budget)
        fixture.deliver(tight)
        #expect(fixture.agent.counters.rejected[.invalidItem] == 1)
        fixture.deliver(fixture.datagram(from: 2, items: [AgentFixture.alive(2)]))
        #expect(fixture.agent.membership.members.count == 1)

        let request = fixture.datagram(from: 2, message: .sync(.with { $0.replyWanted = true }), at: Self.t0)
        let reply = Self.transmissions(fixture.deliver(request, at: Self.t0 + .seconds(1)))
        #expect(!reply.isEmpty)
        #expect(reply.count < 5)
        #expect(reply.allSatisfy { $0.bytes.count <= Self.budget })
        let carried = reply.flatMap(\.packet.items)
        #expect(carried.contains(AgentFixture.alive(2).wire))
        #expect(carried.contains(fixture.agent.membership.localClaim.wire))
        #expect(!carried.contains(big.wire))
    }
}
