import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// A member whose datagrams or relayed items fail verification repeatedly is reported
/// (``Agent/verificationFailures``), with the right member blamed and memory bounded.
@Suite struct VerificationFailureTests {
    static let t0 = AgentFixture.t0

    /// A datagram from `sender` whose packet was altered after signing.
    static func tampered(_ fixture: inout AgentFixture, from sender: Int, at time: Instant) -> Data {
        fixture.datagram(from: sender, message: .ping(.with { $0.probe = 5 }), at: time)
            .editingDatagram { $0.packet[$0.packet.count - 1] ^= 0x01 }
    }

    /// An item claiming `origin` but signed by another key.
    static func forgedItem(origin: Int) -> SignedItem {
        var item = Overlayd_V1_Item()
        item.origin = TestKeys.id(origin).data
        item.issuedAtMs = UInt64(t0.milliseconds)
        item.kind = Membership.aliveKind(name: "hijacked", endpoint: PeerEndpoint(host: "203.0.113.9", port: 1), incarnation: 9)
        let bytes: Data = try! item.serializedBytes()
        var wire = Overlayd_V1_SignedItem()
        wire.item = bytes
        wire.signature = TestKeys.signer(4).sign(SigningDomain.item.message(for: bytes))
        return SignedItem(wire: wire)!
    }

    @Test func repeatedBadSignaturesReportTheNamedSenderOnlyFromTheThird() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        for index in 0..<2 {
            fixture.deliver(Self.tampered(&fixture, from: 1, at: Self.t0), at: Self.t0 + .seconds(Double(index)))
        }
        #expect(fixture.agent.verificationFailures.record(of: TestKeys.id(1))?.badDatagrams == 2)
        #expect(fixture.agent.verificationFailures.suspicious(now: Self.t0 + .seconds(2)).isEmpty, "two could be radio noise")
        fixture.deliver(Self.tampered(&fixture, from: 1, at: Self.t0), at: Self.t0 + .seconds(2))
        let reported = fixture.agent.verificationFailures.suspicious(now: Self.t0 + .seconds(3))
        #expect(reported.map(\.key) == [TestKeys.id(1)])
        #expect(reported.first?.record.badDatagrams == 3)
        #expect(reported.first?.record.forgedItems == 0)
        // A good datagram from another member blames nobody.
        fixture.deliver(fixture.datagram(from: 2, message: .ping(.with { $0.probe = 6 })), at: Self.t0 + .seconds(3))
        #expect(fixture.agent.verificationFailures.record(of: TestKeys.id(2)) == nil)
    }

    @Test func aForgedItemBlamesTheRelayThatSentItNotTheOriginItNames() {
        var fixture = AgentFixture()
        fixture.learnOneAndTwo()
        for index in 0..<3 {
            let bytes = fixture.datagram(from: 1, items: [Self.forgedItem(origin: 2)], at: Self.t0 + .seconds(Double(index)))
            let out = fixture.deliver(bytes, at: Self.t0 + .seconds(Double(index)))
            #expect(out.compactMap(\.rejection) == [.forgedItem])
        }
        let reported = fixture.agent.verificationFailures.suspicious(now: Self.t0 + .seconds(3))
        #expect(reported.map(\.key) == [TestKeys.id(1)])
        #expect(reported.first?.record.forgedItems == 3)
        #expect(fixture.agent.verificationFailures.record(of: TestKeys.id(2)) == nil, "the named origin proved nothing")
    }

    @Test func anOutsiderIsRefusedBeforeAnySignatureAndNeverTracked() {
        var fixture = AgentFixture()
        for _ in 0..<5 {
            fixture.deliver(Self.tampered(&fixture, from: AgentFixture.outsider, at: Self.t0))
        }
        #expect(fixture.agent.verificationFailures.record(of: TestKeys.id(AgentFixture.outsider)) == nil)
        #expect(fixture.agent.counters.rejected[.unknownSender] == 5)
    }

    @Test func aReportLapsesTenMinutesAfterTheLastFailure() {
        var failures = VerificationFailures()
        for second in 0..<3 { failures.note(TestKeys.id(1), .datagram, now: Self.t0 + .seconds(second)) }
        #expect(failures.suspicious(now: Self.t0 + .seconds(2) + VerificationFailures.window).count == 1)
        #expect(failures.suspicious(now: Self.t0 + .seconds(3) + VerificationFailures.window).isEmpty)
        // A failure after the window starts a new count: one is not a pattern.
        failures.note(TestKeys.id(1), .datagram, now: Self.t0 + .seconds(4000))
        #expect(failures.record(of: TestKeys.id(1))?.badDatagrams == 1)
    }

    @Test func memoryIsBoundedByTheCapacityForgettingTheStalestFirst() {
        var failures = VerificationFailures(capacity: 4)
        for index in 0..<10 {
            failures.note(TestKeys.id(index), .datagram, now: Self.t0 + .seconds(index))
        }
        #expect((0..<10).filter { failures.record(of: TestKeys.id($0)) != nil } == [6, 7, 8, 9])
    }
}
