import Foundation
import SwiftProtobuf
import Testing
@testable import OverlayWire

/// Golden-byte tests: they pin the encoding, so a change of tag or type fails here first.
@Suite struct GoldenBytesTests {
    static func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }

    @Test func pingPacketEncodesToPinnedBytes() throws {
        var packet = Overlayd_V1_Packet()
        packet.recipient = Data(repeating: 0xAB, count: 4)
        packet.session = 1
        packet.sequence = 2
        packet.sentAtMs = 300
        packet.ping = .with { $0.probe = 7 }
        let bytes: Data = try packet.serializedBytes()
        // 0a 04 abababab | 10 01 | 18 02 | 20 ac02 | 52 02 0807
        #expect(Self.hex(bytes) == "0a04abababab1001180220ac0252020807")
    }

    @Test func memberClaimItemEncodesToPinnedBytes() throws {
        var item = Overlayd_V1_Item()
        item.origin = Data([1, 2])
        item.issuedAtMs = 1
        item.member = .with {
            $0.incarnation = 3
            $0.state = .suspect
            $0.endpoint = .with { $0.host = "h"; $0.port = 80 }
            $0.name = "n"
        }
        let bytes: Data = try item.serializedBytes()
        // 0a 02 0102 | 10 01 | 52 0e [10 03 | 18 02 | 22 05 (0a 01 68 10 50) | 2a 01 6e]
        // The claim is 2 + 2 + (2 + 5) + 3 = 14 bytes long: its length prefix is 0x0e.
        #expect(Self.hex(bytes) == "0a020102" + "1001" + "520e" + "1003" + "1802" + "22050a01681050" + "2a016e")
    }

    @Test func datagramEnvelopeEncodesToPinnedBytes() throws {
        var datagram = Overlayd_V1_Datagram()
        datagram.version = 1
        datagram.sender = Data([9])
        datagram.packet = Data([8])
        datagram.signature = Data([7])
        let bytes: Data = try datagram.serializedBytes()
        #expect(Self.hex(bytes) == "0801120109 1a0108220107".replacingOccurrences(of: " ", with: ""))
    }

    @Test func unknownFieldsAreToleratedAndKept() throws {
        // A packet from a future version with field 99 (varint 5) appended.
        var packet = Overlayd_V1_Packet()
        packet.sequence = 4
        var bytes: Data = try packet.serializedBytes()
        bytes.append(contentsOf: [0x98, 0x06, 0x05])
        let decoded = try Overlayd_V1_Packet(serializedBytes: bytes)
        #expect(decoded.sequence == 4)
        let reencoded: Data = try decoded.serializedBytes()
        #expect(reencoded == bytes)
    }

    @Test func signingDomainsNeverCollide() {
        let payload = Data([1, 2, 3])
        let messages = SigningDomain.allCases.map { $0.message(for: payload) }
        #expect(Set(messages).count == SigningDomain.allCases.count)
        #expect(SigningDomain.item.message(for: payload) == Data("overlayd/1/item".utf8) + Data([0, 1, 2, 3]))
    }
}
