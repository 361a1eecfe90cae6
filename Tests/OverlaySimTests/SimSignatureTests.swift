import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// The simulator's signature stand-in must genuinely reject what Ed25519 would reject.
@Suite struct SimSignatureTests {
    let identities = SimIdentities(count: 4, seed: 99)

    @Test func tagOfTheExactMessageVerifies() {
        let message = Data("overlayd/1/packet\u{0}hello".utf8)
        let signature = identities.signer(1).sign(message)
        #expect(signature.count == 64)
        #expect(identities.verifier.verify(signature: signature, message: message, signer: identities.ids[1]))
    }

    @Test func everySingleByteChangeOfTheMessageIsRejected() {
        let message = Data((0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) })
        let signature = identities.signer(2).sign(message)
        for position in message.indices {
            for flip: UInt8 in [1, 0x80, 0xFF] {
                var tampered = message
                tampered[position] ^= flip
                #expect(!identities.verifier.verify(signature: signature, message: tampered, signer: identities.ids[2]))
            }
        }
    }

    @Test func truncatedOrExtendedMessagesAreRejected() {
        let message = Data(repeating: 0, count: 64)
        let signature = identities.signer(0).sign(message)
        #expect(!identities.verifier.verify(signature: signature, message: message.dropLast(), signer: identities.ids[0]))
        #expect(!identities.verifier.verify(signature: signature, message: message + Data([0]), signer: identities.ids[0]))
    }

    @Test func anotherSignerOrATamperedSignatureIsRejected() {
        let message = Data("claim".utf8)
        let signature = identities.signer(0).sign(message)
        #expect(!identities.verifier.verify(signature: signature, message: message, signer: identities.ids[1]))
        for position in 0..<64 {
            var tampered = signature
            tampered[position] ^= 1
            #expect(!identities.verifier.verify(signature: tampered, message: message, signer: identities.ids[0]))
        }
        #expect(!identities.verifier.verify(signature: signature.prefix(63), message: message, signer: identities.ids[0]))
    }

    @Test func keysOutsideTheRunAreUnknown() {
        let stranger = SimIdentities(count: 1, seed: 5)
        let message = Data("hello".utf8)
        #expect(!identities.verifier.verify(signature: stranger.signer(0).sign(message), message: message, signer: stranger.ids[0]))
    }

    @Test func identitiesAndEndpointsAreDistinctAndStable() {
        let again = SimIdentities(count: 4, seed: 99)
        #expect(again.ids == identities.ids)
        #expect(Set(identities.ids).count == 4)
        let endpoints = (0..<70_000).map(SimIdentities.endpoint)
        #expect(Set(endpoints).count == 70_000)
        #expect(SimIdentities.endpoint(0) == PeerEndpoint(host: "10.0.0.1", port: 7946))
    }
}
