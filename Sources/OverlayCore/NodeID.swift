import Foundation

/// A node's identity: its 32-byte Ed25519 public key.
///
/// Stored as four 64-bit words so that the core's many maps keyed by node hash and compare
/// without touching the heap. `Comparable` gives the core a deterministic order wherever it
/// must iterate over members (Swift's `Set` and `Dictionary` orders differ between runs).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    @usableFromInline let words: (UInt64, UInt64, UInt64, UInt64)

    /// Wraps 32 raw bytes; returns `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() {
            words[index / 8] = words[index / 8] << 8 | UInt64(byte)
        }
        self.words = (words[0], words[1], words[2], words[3])
    }

    /// Parses the 64-character hex form (either case); anything else is `nil`.
    public init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count == 64 else { return nil }
        func nibble(_ char: UInt8) -> UInt8? {
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes: bytes)
    }

    /// The 32 raw bytes, big-endian word by word.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    /// The raw bytes as `Data`, as the wire schema carries them.
    public var data: Data { Data(bytes) }

    /// The full lowercase hex form (64 characters), as JSON shows it.
    public var hex: String {
        [words.0, words.1, words.2, words.3].map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// The first 12 hex characters, as tables show it.
    public var shortForm: String { String(hex.prefix(12)) }

    public var description: String { shortForm }

    public static func == (lhs: NodeID, rhs: NodeID) -> Bool {
        lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        if lhs.words.0 != rhs.words.0 { return lhs.words.0 < rhs.words.0 }
        if lhs.words.1 != rhs.words.1 { return lhs.words.1 < rhs.words.1 }
        if lhs.words.2 != rhs.words.2 { return lhs.words.2 < rhs.words.2 }
        return lhs.words.3 < rhs.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension NodeID: Codable {
    /// Decodes the 64-character hex form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = NodeID(hex: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a 64-digit hex public key")
        }
        self = id
    }

    /// Encodes the 64-character hex form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
