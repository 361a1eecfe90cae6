import Foundation
import OverlayCore
import OverlayWire
import Testing
@testable import OverlayNode

/// The shell's per-sender gate: a token bucket per sender key (or source address for junk),
/// bounded memory, and the envelope's sender read without decoding.
@Suite struct SenderRateGateTests {
    static let second: UInt64 = 1_000_000_000

    static func envelope(sender: [UInt8], version: UInt32 = 1) -> Data {
        var datagram = Overlayd_V1_Datagram()
        datagram.version = version
        datagram.sender = Data(sender)
        datagram.packet = Data(repeating: 7, count: 40)
        datagram.signature = Data(repeating: 9, count: 64)
        return try! datagram.serializedBytes()
    }

    static func key(_ bytes: Data, host: String = "10.0.0.9", port: Int = 7946) -> SenderRateGate.Key {
        bytes.withUnsafeBytes { SenderRateGate.key(of: $0, host: host, port: port) }
    }

    @Test func theSenderIsReadFromTheEnvelopeAndJunkFallsBackToTheAddress() {
        let sender = [UInt8](repeating: 0xAB, count: 32)
        #expect(Self.key(Self.envelope(sender: sender)) == .sender(Data(sender)))
        // The version field comes first in our encoding, but the order does not matter.
        var reordered = Overlayd_V1_Datagram()
        reordered.sender = Data(sender)
        #expect(Self.key(try! reordered.serializedBytes()) == .sender(Data(sender)))
        // A sender that is not a key, junk, a truncated envelope: keyed by the source.
        #expect(Self.key(Self.envelope(sender: [1, 2, 3])) == .address("10.0.0.9", 7946))
        #expect(Self.key(Data([0xFF, 0xFF, 0xFF])) == .address("10.0.0.9", 7946))
        #expect(Self.key(Self.envelope(sender: sender).prefix(20)) == .address("10.0.0.9", 7946))
        #expect(Self.key(Data()) == .address("10.0.0.9", 7946))
        // A key the keyring does not hold is made up: keyed by the source, not a fresh bucket.
        let envelope = Self.envelope(sender: sender)
        let outside = envelope.withUnsafeBytes { SenderRateGate.key(of: $0, host: "10.0.0.9", port: 7946, admitted: [Data(repeating: 1, count: 32)]) }
        #expect(outside == .address("10.0.0.9", 7946))
        let inside = envelope.withUnsafeBytes { SenderRateGate.key(of: $0, host: "10.0.0.9", port: 7946, admitted: [Data(sender)]) }
        #expect(inside == .sender(Data(sender)))
    }

    @Test func aSenderGetsItsBurstThenItsRate() {
        var gate = SenderRateGate(ratePerSecond: 200, burst: 400)
        let flooder = SenderRateGate.Key.sender(Data(repeating: 1, count: 32))
        let member = SenderRateGate.Key.sender(Data(repeating: 2, count: 32))
        var admitted = 0
        for _ in 0..<1_000 where gate.admit(flooder, nowNanoseconds: Self.second) { admitted += 1 }
        #expect(admitted == 400, "the burst")
        // A second later: 200 more tokens, no more.
        admitted = 0
        for _ in 0..<1_000 where gate.admit(flooder, nowNanoseconds: 2 * Self.second) { admitted += 1 }
        #expect(admitted == 200)
        // Another sender is not affected by the flooder's empty bucket.
        let memberAdmitted = gate.admit(member, nowNanoseconds: 2 * Self.second)
        #expect(memberAdmitted)
    }

    @Test func memoryStaysBoundedWhateverKeysAFloodMakesUp() {
        var gate = SenderRateGate(ratePerSecond: 200, burst: 400, maxTracked: 64)
        for index in 0..<10_000 {
            _ = gate.admit(.address("10.1.\(index / 256).\(index % 256)", 7946), nowNanoseconds: Self.second + UInt64(index))
            #expect(gate.trackedCount <= 64)
        }
        // A sender whose bucket was forgotten starts again from a full burst: it loses nothing.
        let forgotten = gate.admit(.address("10.1.0.0", 7946), nowNanoseconds: 3 * Self.second)
        #expect(forgotten)
    }
}
