import CSodium

/// Initialises libsodium once per process.
///
/// `sodium_init()` is idempotent and thread-safe; every entry point of this module calls
/// ``Sodium/ensureInitialised()`` first so that callers never have to remember it.
enum Sodium {
    /// The result of the one-time initialisation; a negative value means libsodium is unusable.
    private static let initialised: Int32 = sodium_init()

    /// Makes sure libsodium is initialised; stops the process if the library cannot start,
    /// since no identity, signature or random number is trustworthy without it.
    static func ensureInitialised() {
        precondition(initialised >= 0, "libsodium failed to initialise (sodium_init returned \(initialised))")
    }
}
