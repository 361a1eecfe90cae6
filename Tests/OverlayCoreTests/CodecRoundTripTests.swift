import Foundation
import OverlayWire
import SwiftProtobuf
import Testing
@testable import OverlayCore

/// Property tests: for many random values (``DeterministicRandom``, 500 seeds each), what the
/// codecs encode decodes back to the same value, through the wire bytes.
@Suite struct CodecRoundTripTests {
    static let seeds: ClosedRange<UInt64> = 1...500

    struct Draw {
        var random: DeterministicRandom
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        mutating func bool() -> Bool { random.next() & 1 == 1 }
        /// A valid gateway name: 1-128 bytes of printable ASCII and some non-ASCII letters.
        mutating func name() -> String {
            let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:[]é北")
            var text = ""
            for _ in 0..<int(1...30) { text.append(alphabet[int(0...alphabet.count - 1)]) }
            return text
        }
    }

    /// Encodes `message` to bytes and decodes it again, as the wire does.
    static func wire<M: SwiftProtobuf.Message>(_ message: M) throws -> M {
        let bytes: Data = try message.serializedBytes()
        return try M(serializedBytes: bytes)
    }

    @Test func observationsRoundTrip() throws {
        let failures: [ProbeFailure] = [.timeout, .connectFailed, .httpStatus(502), .shortBody, .proxyRefused, .badResponse]
        for seed in Self.seeds {
            var draw = Draw(random: DeterministicRandom(seed: seed))
            let observer = NodeID(bytes: (0..<32).map { _ in UInt8(draw.int(0...255)) })!
            let failed = draw.int(0...3) == 0
            let observation = Observation(
                observer: observer, gateway: GatewayID(draw.name()),
                contentLatency: failed ? nil : .microseconds(draw.int(1...4_000_000_000)),
                timeToFirstByte: draw.bool() ? .microseconds(draw.int(1...4_000_000_000)) : nil,
                failure: failed ? failures[draw.int(0...failures.count - 1)] : nil,
                bytes: draw.int(0...10_000_000), hops: draw.bool() ? draw.int(0...40) : nil,
                takenAt: Instant(milliseconds: Int64(draw.int(1...4_000_000_000_000))), sequence: UInt64(draw.int(1...1_000_000)))
            let message = try Self.wire(ObservationCodec.encode(observation))
            let decoded = ObservationCodec.decode(message, observer: observer)
            #expect(decoded == .success(observation), "seed \(seed): \(observation)")
        }
    }

    @Test func gatewayAndSelectionAnnouncementsRoundTrip() throws {
        for seed in Self.seeds {
            var draw = Draw(random: DeterministicRandom(seed: seed))
            let statement = AnnouncementCodec.GatewayStatement(
                gateway: GatewayID(draw.name()), proxy: ProxyEndpoint(host: "10.\(draw.int(0...255)).\(draw.int(0...255)).1", port: UInt16(draw.int(1...65535))),
                capacity: draw.bool() ? draw.int(1...10_000) : nil, clients: draw.int(0...10_000), sequence: UInt64(draw.int(1...1_000_000)))
            guard case .gateway(let message) = AnnouncementCodec.kind(statement) else { Issue.record("not a gateway kind"); return }
            #expect(AnnouncementCodec.decode(try Self.wire(message)) == .success(statement), "seed \(seed)")

            let node = NodeID(bytes: (0..<32).map { _ in UInt8(draw.int(0...255)) })!
            let at = Instant(milliseconds: Int64(draw.int(1...4_000_000_000_000)))
            let selection = SelectionAnnouncement(
                node: node, gateway: draw.bool() ? GatewayID(draw.name()) : nil, sequence: UInt64(draw.int(1...1_000_000)), announcedAt: at)
            guard case .selection(let chosen) = AnnouncementCodec.kind(selection) else { Issue.record("not a selection kind"); return }
            #expect(AnnouncementCodec.decode(try Self.wire(chosen), node: node, issuedAt: at) == .success(selection), "seed \(seed)")
        }
    }

    @Test func sealedDatagramsOpenToTheSamePacket() throws {
        let keyring = TestKeys.keyring(count: 3)
        for seed in Self.seeds {
            var draw = Draw(random: DeterministicRandom(seed: seed))
            var sender = DatagramCodec(
                session: UInt64(seed), signer: TestKeys.signer(1), verifier: FakeVerifier(), keyring: keyring,
                clockSkewWindow: nil, rateLimit: RateLimiter(ratePerSecond: 1, burst: 1))
            var receiver = DatagramCodec(
                session: 9, signer: TestKeys.signer(0), verifier: FakeVerifier(), keyring: keyring,
                clockSkewWindow: .seconds(600), rateLimit: RateLimiter(ratePerSecond: 1_000, burst: 1_000))
            var packet = Overlayd_V1_Packet()
            switch draw.int(0...3) {
            case 0: packet.ping = .with { $0.probe = UInt64(draw.int(0...1_000_000)) }
            case 1: packet.ack = .with { $0.probe = UInt64(draw.int(0...1_000_000)) }
            case 2: packet.pingRequest = .with { $0.probe = 3; $0.target = TestKeys.id(2).data }
            default: packet.gossip = .init()
            }
            let now = Instant(milliseconds: 1_780_000_000_000 + Int64(draw.int(0...1_000_000)))
            packet.items = (0..<draw.int(0...3)).map { index in
                Claims.alive(TestKeys.signer(2), incarnation: UInt64(index + 1), name: draw.name(), at: now).wire
            }
            let bytes = sender.seal(packet, to: TestKeys.id(0), now: now)
            guard case .success(let opened) = receiver.open(bytes, now: now) else {
                Issue.record("seed \(seed): a sealed datagram did not open")
                continue
            }
            #expect(opened.sender == TestKeys.id(1))
            #expect(opened.packet.message == packet.message)
            #expect(opened.packet.items == packet.items, "items travel byte for byte")
            #expect(opened.packet.sequence == sender.sequence)
        }
    }
}
