import Foundation
import OverlayCore
import OverlayNode

/// A verifier that verifies with libsodium and keeps every (signer, signature, message) it was
/// asked about, so the suite can check that no signature is verified twice and can time raw
/// libsodium on exactly the same work.
final class RecordingVerifier: SignatureVerifier, @unchecked Sendable {
    /// One verification asked of libsodium.
    struct Call {
        var signature: Data
        var message: Data
        var signer: NodeID
    }

    private let lock = NSLock()
    private var seen: Set<Data> = []
    private let inner = SodiumVerifier()
    /// Every verification, in order.
    private(set) var calls: [Call] = []
    /// Verifications of a (signer, message) already verified before: the duplicate check's misses.
    private(set) var repeats = 0

    func verify(signature: Data, message: Data, signer: NodeID) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        calls.append(Call(signature: signature, message: message, signer: signer))
        if !seen.insert(signer.data + message).inserted { repeats += 1 }
        return inner.verify(signature: signature, message: message, signer: signer)
    }
}

/// A signer that signs with libsodium and counts the signatures made while ``counting`` is set
/// (the replies a received datagram causes).
final class CountingSigner: MessageSigner, @unchecked Sendable {
    private let inner: SodiumSigner
    private let lock = NSLock()
    /// Whether signatures are being counted now.
    var counting = false
    /// The messages signed while counting.
    private(set) var signed: [Data] = []

    init(_ inner: SodiumSigner) { self.inner = inner }

    var nodeID: NodeID { inner.nodeID }

    func sign(_ message: Data) -> Data {
        lock.lock()
        if counting { signed.append(message) }
        lock.unlock()
        return inner.sign(message)
    }
}
