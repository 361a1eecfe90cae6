import Foundation
import OverlayCore
import OverlayCrypto
import OverlayNode
import OverlayWire

/// The receive path end to end (decode, admission, replay and rate checks, verification, and
/// applying the packet, including signing the replies it causes) against raw libsodium verifying
/// exactly the same signatures.
///
/// The traffic is real: everything one node of a ``VirtualCloud`` received, joins and
/// push-pulls included, replayed in order into a fresh copy of that node. A first replay
/// records every verification, to check that no (signer, message) is verified twice and to give
/// raw libsodium the same work; the timed replays use plain libsodium and keep the fastest of
/// `repetitions`, so another process on the machine slows a figure down less.
struct ReceivePathBench {
    /// What one measurement found.
    struct Result {
        /// Datagrams replayed and accepted.
        var datagrams = 0
        /// Signatures verified on the path (envelopes and relayed items).
        var verifications = 0
        /// Verifications of a (signer, message) verified before: must be 0.
        var repeatedVerifications = 0
        /// Items dropped as already seen, without verification (the agent's counter).
        var duplicatesSkipped = 0
        /// Signatures made while handling received datagrams (acks, push-pull replies).
        var signatures = 0
        /// Seconds inside `onDatagram` (the fastest replay).
        var pathSeconds = 0.0
        /// Seconds for libsodium alone to verify the same signatures.
        var rawVerifySeconds = 0.0
        /// Seconds for libsodium alone to make the same signatures.
        var rawSignSeconds = 0.0
        /// Whether the replay accepted as many datagrams as the original node did.
        var replayMatches = false
    }

    /// Replays `cloud`'s recorded node.
    static func measure(_ cloud: VirtualCloud, repetitions: Int) -> Result {
        guard let node = cloud.recorded else { return Result() }
        var result = Result()
        let recorder = RecordingVerifier()
        let counter = CountingSigner(cloud.signer(node))
        if var agent = cloud.replayAgent(signer: counter, verifier: recorder) {
            _ = replay(cloud.recording, into: &agent, signer: counter)
            result.datagrams = agent.counters.datagramsReceived
            result.duplicatesSkipped = agent.counters.itemsDuplicate
            result.replayMatches = agent.counters.datagramsReceived == cloud.agents[node]?.counters.datagramsReceived
        }
        let calls = recorder.calls
        result.verifications = calls.count
        result.repeatedVerifications = recorder.repeats
        result.signatures = counter.signed.count
        result.pathSeconds = .infinity
        for _ in 0..<repetitions {
            let signer = CountingSigner(cloud.signer(node))
            guard var agent = cloud.replayAgent(signer: signer, verifier: SodiumVerifier()) else { break }
            result.pathSeconds = min(result.pathSeconds, replay(cloud.recording, into: &agent, signer: nil))
        }
        let keys = calls.map { $0.signer.bytes }
        result.rawVerifySeconds = .infinity
        for _ in 0..<repetitions {
            var valid = 0
            let elapsed = seconds {
                for (call, key) in zip(calls, keys)
                where Ed25519.verify(signature: call.signature, message: call.message, publicKey: key) {
                    valid += 1
                }
            }
            // A clean cloud sends only valid signatures; anything else means the recording is wrong.
            precondition(valid == calls.count, "raw libsodium refused \(calls.count - valid) recorded signatures")
            result.rawVerifySeconds = min(result.rawVerifySeconds, elapsed)
        }
        let identity = cloud.identities[node]
        let messages = counter.signed
        result.rawSignSeconds = .infinity
        for _ in 0..<repetitions {
            result.rawSignSeconds = min(result.rawSignSeconds, seconds { for message in messages { _ = identity.sign(message) } })
        }
        return result
    }

    /// Feeds the recording into `agent`; returns the seconds spent inside `onDatagram`.
    private static func replay(_ inputs: [VirtualCloud.RecordedInput], into agent: inout Agent, signer: CountingSigner?) -> Double {
        var inside = 0.0
        for input in inputs {
            switch input {
            case .start(let at):
                _ = agent.start(now: at)
            case .tick(let at):
                _ = agent.onTick(now: at)
            case .datagram(let bytes, let from, let at):
                signer?.counting = true
                inside += seconds { _ = agent.onDatagram(bytes, from: from, now: at) }
                signer?.counting = false
            }
        }
        return inside
    }
}

/// Encoding and decoding one datagram at the full budget: the protobuf work alone, without
/// signatures (those are timed by ``ReceivePathBench``).
struct CodecBench {
    /// Microseconds per encode and per decode, and the datagram's size.
    struct Result {
        var bytes = 0
        var items = 0
        var encodeMicroseconds = 0.0
        var decodeMicroseconds = 0.0
    }

    /// Times the largest datagram in `recording`, `iterations` times each way.
    static func measure(_ recording: [VirtualCloud.RecordedInput], iterations: Int) -> Result? {
        var largest: Data?
        for case .datagram(let bytes, _, _) in recording where bytes.count > (largest?.count ?? 0) { largest = bytes }
        guard let bytes = largest,
              let datagram = try? Overlayd_V1_Datagram(serializedBytes: bytes),
              let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return nil }
        var result = Result(bytes: bytes.count, items: packet.items.count)
        var sink = 0
        let decode = seconds {
            for _ in 0..<iterations {
                if let outer = try? Overlayd_V1_Datagram(serializedBytes: bytes),
                   let inner = try? Overlayd_V1_Packet(serializedBytes: outer.packet) { sink &+= inner.items.count }
            }
        }
        let encode = seconds {
            for _ in 0..<iterations {
                var outer = datagram
                outer.packet = (try? packet.serializedBytes()) ?? Data()
                sink &+= ((try? outer.serializedBytes()) ?? Data()).count
            }
        }
        precondition(sink != 0, "the codec did no work")
        result.decodeMicroseconds = 1e6 * decode / Double(iterations)
        result.encodeMicroseconds = 1e6 * encode / Double(iterations)
        return result
    }
}
