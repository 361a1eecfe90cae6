import CSodium

/// Random bytes from the operating system, through libsodium's `randombytes_buf`.
///
/// Used for key generation and for seeding the core's deterministic generator at start-up;
/// the core itself never draws from here.
public enum SecureRandom {
    /// Returns `count` cryptographically secure random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: count)
        randombytes_buf(&out, count)
        return out
    }

    /// Returns a random 64-bit value, for seeding deterministic generators.
    public static func uint64() -> UInt64 {
        bytes(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
