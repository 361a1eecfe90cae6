import Foundation

/// Splits a datagram's bytes between gateway gossip and the rest (membership, the quorum
/// view, headers and signatures), for the cost figures of `overlay-sim rimo --through-agents`.
///
/// It reads the wire format's framing only (`Docs/protocol.md`): the datagram's `packet`
/// (field 3), the packet's piggybacked `items` (field 20), and in each item the field number
/// of its `kind` (11 observation, 12 gateway announcement, 13 selection announcement).
///
/// A gateway item counts with its framing in the packet (tag and length). A `Gossip` datagram
/// (message field 15) whose items are all gateway items counts whole, header and signatures
/// included: the agent sends a gossip datagram only when it has items to spread, so without
/// gateway gossip it would not exist. Any other datagram's header counts as membership.
/// Nothing is verified: the datagrams are the agents' own.
public enum GatewayTraffic {
    /// The bytes of `datagram` due to gateway gossip (0 if it carries no gateway item or does
    /// not parse).
    public static func gatewayBytes(in datagram: Data) -> Int {
        datagram.withUnsafeBytes { raw -> Int in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let packet = field(3, in: bytes, 0..<bytes.count) else { return 0 }
            var total = 0
            var isGossip = false
            var otherItems = 0
            var cursor = packet.lowerBound
            while cursor < packet.upperBound {
                guard let next = nextField(in: bytes, from: cursor, end: packet.upperBound) else { return total }
                if next.number == 15 { isGossip = true }
                if next.number == 20 {
                    if let item = field(1, in: bytes, next.value), isGatewayItem(bytes, item) {
                        total += next.upperBound - cursor
                    } else {
                        otherItems += 1
                    }
                }
                cursor = next.upperBound
            }
            return isGossip && otherItems == 0 && total > 0 ? bytes.count : total
        }
    }

    /// Whether an encoded `Item` is an observation, a gateway or a selection announcement.
    private static func isGatewayItem(_ bytes: UnsafeBufferPointer<UInt8>, _ item: Range<Int>) -> Bool {
        var cursor = item.lowerBound
        while cursor < item.upperBound {
            guard let next = nextField(in: bytes, from: cursor, end: item.upperBound) else { return false }
            if next.number >= 10 { return (11...13).contains(next.number) }
            cursor = next.upperBound
        }
        return false
    }

    /// The value of the first length-delimited field `number` in `range`.
    private static func field(_ number: Int, in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int>? {
        var cursor = range.lowerBound
        while cursor < range.upperBound {
            guard let next = nextField(in: bytes, from: cursor, end: range.upperBound) else { return nil }
            if next.number == number, next.delimited { return next.value }
            cursor = next.upperBound
        }
        return nil
    }

    private struct Field {
        let number: Int
        let delimited: Bool
        /// The value's bytes (for a varint or fixed field, its encoding).
        let value: Range<Int>
        /// Where the next field starts.
        var upperBound: Int { value.upperBound }
    }

    private static func varint(_ bytes: UnsafeBufferPointer<UInt8>, _ cursor: inout Int, end: Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end, shift < 64 {
            let byte = bytes[cursor]
            cursor += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    private static func nextField(in bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int) -> Field? {
        var cursor = start
        guard let key = varint(bytes, &cursor, end: end) else { return nil }
        let number = Int(key >> 3)
        let valueStart: Int
        switch key & 7 {
        case 0:
            valueStart = cursor
            guard varint(bytes, &cursor, end: end) != nil else { return nil }
            return Field(number: number, delimited: false, value: valueStart..<cursor)
        case 1:
            guard cursor + 8 <= end else { return nil }
            return Field(number: number, delimited: false, value: cursor..<(cursor + 8))
        case 2:
            guard let length = varint(bytes, &cursor, end: end), length <= UInt64(end - cursor) else { return nil }
            return Field(number: number, delimited: true, value: cursor..<(cursor + Int(length)))
        case 5:
            guard cursor + 4 <= end else { return nil }
            return Field(number: number, delimited: false, value: cursor..<(cursor + 4))
        default:
            return nil
        }
    }
}
