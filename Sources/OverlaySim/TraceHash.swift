import Foundation

/// A running 64-bit hash of everything observable in a run: every datagram sent (time, sender,
/// recipient, bytes) and every membership change.
///
/// Two runs with the same seed must end with the same value; the determinism test compares it.
/// Word-at-a-time mixing (the same bijective steps as ``KeyedTag``), so hashing every byte of a
/// 10,000-node run costs little.
public struct TraceHash: Sendable, Equatable, CustomStringConvertible {
    /// The current value.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// Creates the hash of an empty trace.
    public init() {}

    /// Absorbs one 64-bit value.
    public mutating func absorb(_ word: UInt64) { value = KeyedTag.mix(value ^ word) }

    /// Absorbs a signed value.
    public mutating func absorb(_ word: Int64) { absorb(UInt64(bitPattern: word)) }

    /// Absorbs a small integer.
    public mutating func absorb(_ word: Int) { absorb(UInt64(bitPattern: Int64(word))) }

    /// Absorbs bytes (and their length).
    public mutating func absorb(_ bytes: Data) { value = KeyedTag.digest(secret: value, message: bytes) }

    /// Absorbs a string's UTF-8 bytes.
    public mutating func absorb(_ text: String) { absorb(Data(text.utf8)) }

    /// The value as 16 hex digits.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
