import Foundation
import OverlayCore

/// A fast, deterministic stand-in for Ed25519, so the fuzzer gets past signature checks to
/// the decoders behind them (the harness signs whatever the fuzzer writes).
///
/// 64 bytes derived from an FNV-1a hash of the signer's key and the message: it checks that
/// the agent verifies the exact bytes it decodes, and proves nothing against an attacker. The
/// `datagram` target uses real Ed25519 instead, as the daemon does.
enum FuzzSignature {
    static func make(signer: NodeID, message: Data) -> Data {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in signer.bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        for byte in message { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        hash ^= UInt64(message.count) &* 0x9E37_79B9_7F4A_7C15
        var out = Data(capacity: 64)
        var state = hash
        for _ in 0..<8 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }
}

/// Signs as one fuzz node with ``FuzzSignature``.
struct FuzzSigner: MessageSigner {
    let nodeID: NodeID
    func sign(_ message: Data) -> Data { FuzzSignature.make(signer: nodeID, message: message) }
}

/// Accepts exactly the ``FuzzSignature`` of the message and signer.
struct FuzzVerifier: SignatureVerifier {
    func verify(signature: Data, message: Data, signer: NodeID) -> Bool {
        signature == FuzzSignature.make(signer: signer, message: message)
    }
}

/// The fuzz cloud's identities: node `i`'s key starts with byte `i + 1`.
enum FuzzKeys {
    static func id(_ index: Int) -> NodeID {
        NodeID(bytes: (0..<32).map { $0 == 0 ? UInt8(index + 1) : UInt8(truncatingIfNeeded: index &* 31 &+ $0 &* 7 &+ 0x5A) })!
    }

    static func signer(_ index: Int) -> FuzzSigner { FuzzSigner(nodeID: id(index)) }

    static func endpoint(_ index: Int) -> PeerEndpoint { PeerEndpoint(host: "10.0.0.\(index + 1)", port: 7946) }
}
