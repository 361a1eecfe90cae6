import Foundation
import OverlayWire

/// The agent's side of the join challenge (``JoinGate``, ``JoinCookieJar``): joins from
/// addresses that have not proved they receive are answered with a challenge no larger than
/// themselves; this node's own joins carry the cookies its seeds issued, and are padded so that
/// a challenge always fits.
extension Agent {
    /// Screens a datagram that names no recipient (a join; the codec lets only a push-pull
    /// through without one).
    ///
    /// - Returns: `nil` when the join carries a cookie this node issued to `source` (it is then
    ///   handled like any push-pull, and answered at `source`); otherwise the refusal, with a
    ///   challenge to `source` if the join asked for a reply and the challenge is no larger
    ///   than the join's `size` bytes. Nothing else about the join is looked at: its claims
    ///   are read only once it comes back with the cookie.
    mutating func screenJoin(_ packet: Overlayd_V1_Packet, from sender: NodeID, source: PeerEndpoint, size: Int, now: Instant) -> [AgentDirective]? {
        guard case .sync(let sync)? = packet.message else { return nil }
        if sync.hasJoinCookie, joinGate.verifies(sync.joinCookie, from: sender, at: source, now: now) { return nil }
        counters.rejected[.unverifiedJoin, default: 0] += 1
        var out: [AgentDirective] = [.rejected(.unverifiedJoin)]
        guard sync.replyWanted else { return out }
        var challenge = Overlayd_V1_Packet()
        challenge.message = .joinChallenge(joinGate.challenge(for: sender, at: source, now: now))
        let bytes = codec.seal(challenge, to: sender, now: now)
        if bytes.count <= size {
            counters.datagramsSent += 1
            counters.bytesSent += bytes.count
            out.append(.transmit(bytes, to: source))
        }
        return out
    }

    /// Answers a challenge from a seed this node sent a join to: the join again, at once, with
    /// the cookie. A challenge from anywhere else, or a second one for the same join, is ignored.
    mutating func answerJoinChallenge(_ challenge: Overlayd_V1_JoinChallenge, from source: PeerEndpoint, now: Instant) -> [AgentDirective] {
        guard joinCookies.challenged(from: source, with: challenge) else { return [] }
        return sync(to: Destination(id: nil, endpoint: source), replyWanted: true, now: now)
    }

    /// Pads the first datagram of a join (the one asking for a reply) with zeros until it is at
    /// least ``JoinGate/largestChallenge`` bytes, counting only the fields already set (the
    /// codec's session, sequence and time make it larger still).
    func padJoin(_ packet: inout Overlayd_V1_Packet) {
        guard case .sync(var sync)? = packet.message, sync.replyWanted else { return }
        let size = ((try? packet.serializedBytes() as Data)?.count ?? 0) + DatagramCodec.envelopeOverhead
        guard size < JoinGate.largestChallenge else { return }
        sync.padding = Data(count: JoinGate.largestChallenge - size)
        packet.message = .sync(sync)
    }
}
