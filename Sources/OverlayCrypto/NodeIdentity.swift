import CSodium
import Foundation

/// A node's Ed25519 key pair. The public key is the node's ID.
///
/// The secret key never leaves this value except through ``KeyFile``, which writes it with
/// mode 0600.
public struct NodeIdentity: Sendable {
    /// The public half: the node ID everyone else knows.
    public let publicKey: PublicKey
    /// The 32-byte seed from which libsodium derives the key pair; this is what the key file stores.
    let seed: [UInt8]
    /// libsodium's 64-byte secret key (seed followed by public key), kept to sign without re-deriving.
    private let secretKey: [UInt8]

    /// Creates a new key pair from the system's secure random source.
    public static func generate() -> NodeIdentity {
        Sodium.ensureInitialised()
        return try! NodeIdentity(seed: SecureRandom.bytes(Ed25519.seedByteCount))
    }

    /// Derives the key pair from a 32-byte seed.
    ///
    /// - Throws: ``KeyFileError`` if the seed has the wrong length.
    public init(seed: [UInt8]) throws {
        guard seed.count == Ed25519.seedByteCount else {
            throw KeyFileError.malformed("a key seed must be \(Ed25519.seedByteCount) bytes, got \(seed.count)")
        }
        Sodium.ensureInitialised()
        var publicBytes = [UInt8](repeating: 0, count: PublicKey.byteCount)
        var secretBytes = [UInt8](repeating: 0, count: Ed25519.secretKeyByteCount)
        let status = crypto_sign_seed_keypair(&publicBytes, &secretBytes, seed)
        precondition(status == 0, "crypto_sign_seed_keypair failed")
        self.seed = seed
        self.secretKey = secretBytes
        self.publicKey = PublicKey(bytes: publicBytes)!
    }

    /// Signs bytes with this node's secret key.
    ///
    /// - Parameter message: the bytes to sign (callers prepend a domain tag, see `OverlayWire.SigningDomain`).
    /// - Returns: the 64-byte detached signature.
    public func sign(_ message: some ContiguousBytes) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Ed25519.signatureByteCount)
        message.withUnsafeBytes { msg in
            _ = crypto_sign_detached(
                &signature, nil,
                msg.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!,
                UInt64(msg.count), secretKey
            )
        }
        return signature
    }
}
