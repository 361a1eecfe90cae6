import Foundation

/// Signs bytes as this node. The daemon implements it with libsodium Ed25519; the simulator
/// with a fast deterministic stand-in. The core only ever signs through this protocol.
public protocol MessageSigner: Sendable {
    /// This node's ID: the public key that verifies its signatures.
    var nodeID: NodeID { get }
    /// Signs `message` (already prefixed with its domain tag) and returns the 64-byte signature.
    func sign(_ message: Data) -> Data
}

/// Verifies signatures made by other nodes.
public protocol SignatureVerifier: Sendable {
    /// Returns `true` only if `signature` is `signer`'s valid signature over exactly `message`.
    func verify(signature: Data, message: Data, signer: NodeID) -> Bool
}
