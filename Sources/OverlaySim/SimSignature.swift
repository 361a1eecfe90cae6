import Foundation
import OverlayCore

/// The simulator's stand-in for Ed25519: a 64-byte tag from a keyed hash.
///
/// Each node has a 64-bit secret drawn from the run's seed. The tag absorbs the secret, then
/// the message eight bytes at a time through bijective steps (xor, multiply by an odd constant,
/// xor-shift), then the length, and is expanded to 64 bytes with SplitMix64. Because every step
/// is a bijection of the state, changing any single 8-byte word of the message always changes
/// the tag, and a different length changes it through the absorbed length; unrelated messages
/// collide with probability about 2⁻⁶⁴. Only the signer holds its secret (the verifier looks
/// secrets up by node ID, as a real verifier looks up public keys), so a simulated attacker
/// that lacks a node's secret cannot make a tag that verifies as that node. It is about a
/// hundred times faster than Ed25519, which is what lets one machine run thousands of nodes.
enum KeyedTag {
    /// The 64-bit digest of `message` under `secret`.
    static func digest(secret: UInt64, message: Data) -> UInt64 {
        var state = secret ^ 0x6A09_E667_F3BC_C908
        let count = message.count
        message.withUnsafeBytes { raw in
            var offset = 0
            while offset + 8 <= count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                state = mix(state ^ word)
                offset += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(raw[offset]) << shift
                shift += 8
                offset += 1
            }
            state = mix(state ^ tail)
        }
        return mix(state ^ UInt64(count) &* 0x9E37_79B9_7F4A_7C15)
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &* 0xFF51_AFD7_ED55_8CCD
        z ^= z >> 32
        z = z &* 0xC4CE_B9FE_1A85_EC53
        z ^= z >> 29
        return z
    }

    /// Word `index` (0..<8) of the 64-byte tag for `digest`.
    @inline(__always)
    static func word(_ digest: UInt64, _ index: Int) -> UInt64 {
        var z = digest &+ UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The 64-byte tag.
    static func tag(secret: UInt64, message: Data) -> Data {
        let digest = digest(secret: secret, message: message)
        var out = Data(count: 64)
        out.withUnsafeMutableBytes { raw in
            for index in 0..<8 { raw.storeBytes(of: word(digest, index).littleEndian, toByteOffset: index * 8, as: UInt64.self) }
        }
        return out
    }

    /// Whether `signature` is the tag of `message` under `secret`, without allocating.
    static func matches(_ signature: Data, secret: UInt64, message: Data) -> Bool {
        guard signature.count == 64 else { return false }
        let digest = digest(secret: secret, message: message)
        return signature.withUnsafeBytes { raw in
            for index in 0..<8 where UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) != word(digest, index) {
                return false
            }
            return true
        }
    }
}

/// Signs as one simulated node with ``KeyedTag`` (the core's ``MessageSigner``).
public struct SimSigner: MessageSigner {
    /// The node's ID.
    public let nodeID: NodeID
    let secret: UInt64

    /// Creates a signer for `nodeID` holding `secret`.
    public init(nodeID: NodeID, secret: UInt64) {
        self.nodeID = nodeID
        self.secret = secret
    }

    /// The 64-byte keyed tag of `message`.
    public func sign(_ message: Data) -> Data { KeyedTag.tag(secret: secret, message: message) }
}

/// Verifies ``SimSigner`` tags (the core's ``SignatureVerifier``): `true` only for the exact
/// message and the signer's own secret.
///
/// Holds the table of every simulated key; all agents of a run share one copy (copy-on-write).
public struct SimVerifier: SignatureVerifier {
    let secrets: [NodeID: UInt64]

    /// Creates a verifier that knows the given keys.
    public init(secrets: [NodeID: UInt64]) { self.secrets = secrets }

    /// Whether `signature` is `signer`'s tag over exactly `message`.
    public func verify(signature: Data, message: Data, signer: NodeID) -> Bool {
        guard let secret = secrets[signer] else { return false }
        return KeyedTag.matches(signature, secret: secret, message: message)
    }
}

/// The identities of a run: node IDs and secrets drawn from the seed.
///
/// Index `i` of a cloud of `n` nodes is node `i`; indices from `n` on are extra identities
/// (an admitted key that runs no agent, used by the chaos runs as an insider attacker).
public struct SimIdentities: Sendable {
    /// The node IDs, by index.
    public let ids: [NodeID]
    let secrets: [UInt64]
    /// The verifier every agent of the run uses.
    public let verifier: SimVerifier

    /// Draws `count` identities from `seed`.
    public init(count: Int, seed: UInt64) {
        var rng = DeterministicRandom(seed: seed ^ 0x1D_E471_7135)
        var ids: [NodeID] = []
        var secrets: [UInt64] = []
        var table: [NodeID: UInt64] = [:]
        ids.reserveCapacity(count)
        while ids.count < count {
            var bytes = [UInt8]()
            bytes.reserveCapacity(32)
            for _ in 0..<4 {
                let word = rng.next()
                for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
            }
            guard let id = NodeID(bytes: bytes), table[id] == nil else { continue }
            let secret = rng.next()
            ids.append(id)
            secrets.append(secret)
            table[id] = secret
        }
        self.ids = ids
        self.secrets = secrets
        self.verifier = SimVerifier(secrets: table)
    }

    /// The signer of identity `index`.
    public func signer(_ index: Int) -> SimSigner { SimSigner(nodeID: ids[index], secret: secrets[index]) }

    /// The endpoint of node `index`: `10.a.b.c:7946`, unique for up to 16 million nodes.
    public static func endpoint(_ index: Int) -> PeerEndpoint {
        let value = index + 1
        return PeerEndpoint(host: "10.\(value >> 16 & 255).\(value >> 8 & 255).\(value & 255)", port: 7946)
    }
}
