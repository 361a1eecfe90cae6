import Foundation
@testable import OverlayCore

/// A deterministic, fast stand-in for Ed25519 that still genuinely checks.
///
/// The signature is 64 bytes expanded from a keyed FNV-1a hash: the state starts from the
/// signer's 32 key bytes, then absorbs the message and its length. Every FNV-1a step is a
/// bijection of the state, so changing any one byte of the message, or the signer, always
/// changes the signature; a different length changes it through the absorbed length. (Anyone
/// can compute it, so it proves nothing against an attacker; it only has to catch the core
/// accepting the wrong bytes or the wrong signer.)
enum FakeSignature {
    static func make(signer: NodeID, message: Data) -> Data {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in signer.bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        message.withUnsafeBytes { raw in
            for byte in raw { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
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

/// Signs as one test node with ``FakeSignature``.
struct FakeSigner: MessageSigner {
    let nodeID: NodeID
    func sign(_ message: Data) -> Data { FakeSignature.make(signer: nodeID, message: message) }
}

/// Verifies ``FakeSignature``s: true only for the exact message and signer.
struct FakeVerifier: SignatureVerifier {
    func verify(signature: Data, message: Data, signer: NodeID) -> Bool {
        signature.count == 64 && signature == FakeSignature.make(signer: signer, message: message)
    }
}

/// Test identities: node `i` has a key whose first byte is `i + 1`, so IDs sort by index.
enum TestKeys {
    static func id(_ index: Int) -> NodeID {
        precondition(index >= 0 && index < 255)
        let bytes = (0..<32).map { position -> UInt8 in
            position == 0 ? UInt8(index + 1) : UInt8(truncatingIfNeeded: index &* 31 &+ position &* 7 &+ 0x5A)
        }
        return NodeID(bytes: bytes)!
    }

    static func signer(_ index: Int) -> FakeSigner { FakeSigner(nodeID: id(index)) }

    static func endpoint(_ index: Int) -> PeerEndpoint { PeerEndpoint(host: "10.0.0.\(index + 1)", port: 7946) }

    /// A keyring admitting nodes `0..<count`.
    static func keyring(count: Int) -> Keyring {
        Keyring((0..<count).map { Keyring.Entry(id: id($0), label: "node\($0)") })
    }
}

/// Builders of signed membership claims, as their origins would make them.
enum Claims {
    static func alive(
        _ signer: FakeSigner, incarnation: UInt64, name: String = "", endpoint: PeerEndpoint? = nil, at now: Instant
    ) -> SignedItem {
        let endpoint = endpoint ?? PeerEndpoint(host: "192.0.2.1", port: 7946)
        return SignedItem(
            kind: Membership.aliveKind(name: name.isEmpty ? "n-\(signer.nodeID.shortForm)" : name, endpoint: endpoint, incarnation: incarnation),
            signer: signer, now: now)
    }

    static func about(
        _ subject: NodeID?, by signer: FakeSigner, incarnation: UInt64, state: MemberState, at now: Instant
    ) -> SignedItem {
        SignedItem(kind: Membership.claimKind(subject: subject, incarnation: incarnation, state: state), signer: signer, now: now)
    }
}

extension Instant {
    static func seconds(_ value: Double) -> Instant { Instant(milliseconds: Int64((value * 1000).rounded())) }
}
