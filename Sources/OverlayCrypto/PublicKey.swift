/// An Ed25519 public key: 32 bytes, the identity of a node.
///
/// Its text form is lowercase hex (64 characters). ``shortForm`` (the first 12 hex characters)
/// is what tables show; JSON always carries the whole key.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    /// The number of bytes in an Ed25519 public key.
    public static let byteCount = 32

    /// The 32 raw bytes.
    public let bytes: [UInt8]

    /// Wraps 32 raw bytes; returns `nil` for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses the 64-character hex form; returns `nil` if it is not exactly that.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == Self.byteCount else { return nil }
        self.bytes = raw
    }

    /// The full lowercase hex form (64 characters).
    public var hex: String { Hex.encode(bytes) }

    /// The first 12 hex characters, enough to tell the members of one cloud apart.
    public var shortForm: String { String(hex.prefix(12)) }

    public var description: String { hex }
}

/// Lowercase hex encoding and decoding.
public enum Hex {
    /// Encodes bytes as lowercase hex.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex (either case); returns `nil` for odd length or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
