import Foundation
import Testing
@testable import OverlayCrypto

@Suite struct Ed25519Tests {
    @Test func signatureVerifiesOnlyForTheSignedBytesAndKey() {
        let alice = NodeIdentity.generate()
        let bob = NodeIdentity.generate()
        let message: [UInt8] = Array("overlayd".utf8)
        let signature = alice.sign(message)
        #expect(signature.count == 64)
        #expect(Ed25519.verify(signature: signature, message: message, publicKey: alice.publicKey.bytes))
        #expect(!Ed25519.verify(signature: signature, message: message, publicKey: bob.publicKey.bytes))
        var tampered = message
        tampered[0] ^= 1
        #expect(!Ed25519.verify(signature: signature, message: tampered, publicKey: alice.publicKey.bytes))
        #expect(!Ed25519.verify(signature: Array(signature.prefix(63)), message: message, publicKey: alice.publicKey.bytes))
    }

    @Test func seedDerivesTheSameKeyPair() throws {
        let seed = [UInt8](repeating: 7, count: 32)
        let a = try NodeIdentity(seed: seed)
        let b = try NodeIdentity(seed: seed)
        #expect(a.publicKey == b.publicKey)
        #expect(a.sign([1, 2, 3]) == b.sign([1, 2, 3]))
        #expect(throws: KeyFileError.self) { try NodeIdentity(seed: [1, 2]) }
    }

    @Test func hexRoundTripsAndRejectsGarbage() {
        let key = NodeIdentity.generate().publicKey
        #expect(PublicKey(hex: key.hex) == key)
        #expect(PublicKey(hex: key.hex.uppercased()) == key)
        #expect(key.shortForm.count == 12)
        #expect(PublicKey(hex: "zz") == nil)
        #expect(PublicKey(hex: String(key.hex.dropLast(2))) == nil)
    }

    @Test func keyFileIsPrivateAndNeverOverwritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.key").path
        let identity = NodeIdentity.generate()
        try KeyFile.create(identity, at: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try KeyFile.load(from: path).publicKey == identity.publicKey)
        #expect(throws: KeyFileError.self) { try KeyFile.create(NodeIdentity.generate(), at: path) }
        #expect(try KeyFile.load(from: path).publicKey == identity.publicKey)
        chmod(path, 0o644)
        #expect(throws: KeyFileError.self) { try KeyFile.load(from: path) }
    }
}
