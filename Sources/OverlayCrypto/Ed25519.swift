import CSodium
import Foundation

/// Ed25519 signatures through libsodium.
public enum Ed25519 {
    /// The number of bytes in a detached signature.
    public static let signatureByteCount = 64
    /// The number of bytes in a secret key as libsodium stores it (seed followed by public key).
    public static let secretKeyByteCount = 64
    /// The number of bytes in a seed, from which a key pair is derived.
    public static let seedByteCount = 32

    /// Verifies a detached signature.
    ///
    /// - Parameters:
    ///   - signature: the 64-byte signature.
    ///   - message: the signed bytes.
    ///   - publicKey: the 32-byte public key of the signer.
    /// - Returns: `true` only if the signature is valid for exactly these bytes and this key.
    public static func verify<Message: ContiguousBytes>(
        signature: some ContiguousBytes, message: Message, publicKey: some ContiguousBytes
    ) -> Bool {
        Sodium.ensureInitialised()
        return signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in
                publicKey.withUnsafeBytes { key in
                    guard sig.count == signatureByteCount, key.count == PublicKey.byteCount else { return false }
                    return crypto_sign_verify_detached(
                        sig.bindMemory(to: UInt8.self).baseAddress!,
                        msg.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!,
                        UInt64(msg.count),
                        key.bindMemory(to: UInt8.self).baseAddress!
                    ) == 0
                }
            }
        }
    }
}

