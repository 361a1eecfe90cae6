import Foundation
import OverlayWire

/// The member's side of the join challenge: a join (a push-pull that names no recipient, sent
/// to a seed whose key the joiner does not know yet) is answered with this node's full state
/// only when it carries a cookie this node issued to the address the join came from.
/// Otherwise it is refused (``RejectReason/unverifiedJoin``) and, if it asked for a reply,
/// answered with a challenge that is never larger than the join.
///
/// Without it, a captured join replayed to any other member (its replay window has not seen
/// that sender's sequence yet) made that member send its whole state to the joiner's address:
/// one captured datagram aimed a full push-pull anywhere (Docs/results.md, Findings 4). With
/// it, a replayed or redirected join gets at most a reply no larger than itself, sent to the
/// address the datagram claims, and the full state goes only to an address that proved it
/// receives (return routability, as DTLS's HelloVerifyRequest cookie, QUIC's Retry token and
/// WireGuard's cookie reply).
///
/// Stateless: the cookie is this node's own signature over the joiner's key, the address, this
/// node's session and the time it was issued, so nothing is stored per join and nobody without
/// this node's secret key can make one. It is valid for ``cookieLifetime`` and only in this
/// session (a restarted node has a new session, so cookies from before the restart are dead).
public struct JoinGate: Sendable {
    /// How long a cookie stays valid after it was issued. Default 2 minutes, as long as
    /// WireGuard keeps a cookie secret: a joiner retrying every join-retry interval (2 s on
    /// radio timings) reuses one cookie for many attempts, and a captured cookie-bearing join
    /// is replayable (to its own issuer, from its own address, after the issuer's replay window
    /// forgot it) only for that long.
    public static let cookieLifetime: Duration = .seconds(120)

    /// How far in this node's future an issue time may lie and still be accepted. Default
    /// 5 s: the issue time is this node's own clock, so only a step of that clock backwards
    /// makes a fresh cookie look issued in the future.
    public static let clockStepTolerance: Duration = .seconds(5)

    /// The largest datagram a challenge can take: the envelope
    /// (``DatagramCodec/envelopeOverhead``) plus a packet with a recipient (34 bytes), session,
    /// sequence and send time (11 bytes each at most), and the challenge message (tag and length
    /// 3 bytes, issue time 11, cookie 66). No view is stated in a challenge. A joiner pads the
    /// first datagram of a join to at least this size, so its challenge always fits under the
    /// rule that a challenge is never larger than the join it answers.
    public static let largestChallenge = DatagramCodec.envelopeOverhead + 34 + 3 * 11 + 3 + 11 + 66

    private let signer: any MessageSigner
    private let verifier: any SignatureVerifier
    private let session: UInt64

    /// Creates the gate of one node.
    ///
    /// - Parameters:
    ///   - signer: this node's signer, which makes the cookies.
    ///   - verifier: checks a cookie against this node's own key.
    ///   - session: this node's session, bound into every cookie.
    public init(signer: any MessageSigner, verifier: any SignatureVerifier, session: UInt64) {
        self.signer = signer
        self.verifier = verifier
        self.session = session
    }

    /// A challenge for a join from `joiner` at `address`.
    public func challenge(for joiner: NodeID, at address: PeerEndpoint, now: Instant) -> Overlayd_V1_JoinChallenge {
        let issued = UInt64(max(0, now.milliseconds))
        return .with {
            $0.issuedAtMs = issued
            $0.cookie = signer.sign(Self.signedBytes(joiner: joiner, address: address, session: session, issued: issued))
        }
    }

    /// Whether `cookie` is one this node issued, in this session, to `joiner` at `address`,
    /// less than ``cookieLifetime`` ago.
    public func verifies(_ cookie: Overlayd_V1_JoinChallenge, from joiner: NodeID, at address: PeerEndpoint, now: Instant) -> Bool {
        let issued = Int64(clamping: cookie.issuedAtMs)
        guard cookie.cookie.count == WireFormat.signatureLength,
              issued <= now.milliseconds + Self.clockStepTolerance.milliseconds,
              now.milliseconds - issued < Self.cookieLifetime.milliseconds
        else { return false }
        let message = Self.signedBytes(joiner: joiner, address: address, session: session, issued: cookie.issuedAtMs)
        return verifier.verify(signature: cookie.cookie, message: message, signer: signer.nodeID)
    }

    /// The bytes a cookie signs: the domain tag, the joiner's key, this node's session and the
    /// issue time (8 bytes each, big-endian), then the address as text.
    static func signedBytes(joiner: NodeID, address: PeerEndpoint, session: UInt64, issued: UInt64) -> Data {
        var payload = joiner.data
        withUnsafeBytes(of: session.bigEndian) { payload.append(contentsOf: $0) }
        withUnsafeBytes(of: issued.bigEndian) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: Array(address.description.utf8))
        return SigningDomain.joinCookie.message(for: payload)
    }
}

/// The joiner's side of the join challenge: the cookies seeds issued to this node, by seed
/// address, and which seeds were sent a join that has not been answered with a challenge yet.
///
/// A challenge is answered (the join sent again with its cookie) only from an address this node
/// sent a join to, and once per join sent: a seed that keeps refusing the cookie (for example
/// behind an address rewrite that changes the joiner's source between datagrams) gets one
/// retry per join attempt, never a loop. Bounded by the number of seeds.
public struct JoinCookieJar: Sendable, Equatable {
    private var cookies: [PeerEndpoint: Overlayd_V1_JoinChallenge] = [:]
    private var awaiting: Set<PeerEndpoint> = []

    /// Creates an empty jar.
    public init() {}

    /// The cookie the seed at `endpoint` issued to this node, if any (sent with every join to it
    /// until the seed refuses it with a new challenge).
    public func cookie(for endpoint: PeerEndpoint) -> Overlayd_V1_JoinChallenge? { cookies[endpoint] }

    /// Notes a join sent to the seed at `endpoint`: one challenge from there may be answered.
    public mutating func joinSent(to endpoint: PeerEndpoint) {
        awaiting.insert(endpoint)
    }

    /// Takes in a challenge that came from `endpoint`.
    ///
    /// - Returns: `true` when the join should be sent again now, with the new cookie: a join
    ///   to that address is waiting for its answer. Otherwise the challenge is ignored.
    public mutating func challenged(from endpoint: PeerEndpoint, with challenge: Overlayd_V1_JoinChallenge) -> Bool {
        guard awaiting.remove(endpoint) != nil else { return false }
        cookies[endpoint] = challenge
        return true
    }
}
