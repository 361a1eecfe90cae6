import Foundation
import OverlayWire

/// Seals outgoing packets into signed datagrams and opens incoming ones.
///
/// Opening checks, cheapest first, so that nothing expensive is done for junk: size, decoding,
/// version, admission (the keyring), the sender's rate, the recipient, replay, the sender's
/// clock, and only then the Ed25519 signature. A datagram refused at any step is reported with
/// its ``RejectReason`` and changes no state.
public struct DatagramCodec: Sendable {
    /// This node's session (see ``ReplayGuard``).
    public let session: UInt64
    /// The datagrams sealed so far in this session.
    public private(set) var sequence: UInt64 = 0
    /// The admitted keys.
    public var keyring: Keyring
    /// How far a sender's clock may be from ours; `nil` disables the check.
    public let clockSkewWindow: Duration?

    private let signer: any MessageSigner
    private let verifier: any SignatureVerifier
    private var replay = ReplayGuard()
    private var limiter: RateLimiter

    /// The bytes a datagram adds around its packet: version (2), sender (34), signature (66),
    /// and the packet's own tag and 2-byte length (3).
    public static let envelopeOverhead = 105
    /// The largest encoded packet that fits ``OverlayWire/WireFormat/datagramBudget``.
    public static let packetBudget = WireFormat.datagramBudget - envelopeOverhead

    /// Creates a codec.
    public init(
        session: UInt64, signer: any MessageSigner, verifier: any SignatureVerifier, keyring: Keyring,
        clockSkewWindow: Duration?, rateLimit: RateLimiter
    ) {
        self.session = session
        self.signer = signer
        self.verifier = verifier
        self.keyring = keyring
        self.clockSkewWindow = clockSkewWindow
        self.limiter = rateLimit
    }

    /// Signs and encodes a packet.
    ///
    /// - Parameters:
    ///   - packet: the packet; its recipient, session, sequence and time are filled in here.
    ///   - recipient: the receiver's ID, or `nil` for a seed whose key is not known yet.
    ///   - now: this node's clock.
    /// - Returns: the datagram's bytes.
    public mutating func seal(_ packet: Overlayd_V1_Packet, to recipient: NodeID?, now: Instant) -> Data {
        var packet = packet
        sequence += 1
        packet.recipient = recipient?.data ?? Data()
        packet.session = session
        packet.sequence = sequence
        packet.sentAtMs = UInt64(max(0, now.milliseconds))
        let body: Data = (try? packet.serializedBytes()) ?? Data()
        var datagram = Overlayd_V1_Datagram()
        datagram.version = WireFormat.version
        datagram.sender = signer.nodeID.data
        datagram.packet = body
        datagram.signature = signer.sign(SigningDomain.packet.message(for: body))
        return (try? datagram.serializedBytes()) ?? Data()
    }

    /// Checks and decodes a received datagram.
    ///
    /// - Returns: the verified sender and packet, or why the datagram was refused.
    public mutating func open(_ bytes: Data, now: Instant) -> Result<(sender: NodeID, packet: Overlayd_V1_Packet), RejectReason> {
        guard bytes.count <= WireFormat.datagramBudget else { return .failure(.oversized) }
        guard let datagram = try? Overlayd_V1_Datagram(serializedBytes: bytes) else { return .failure(.malformed) }
        guard datagram.version == WireFormat.version else {
            return .failure(datagram.version == 0 ? .malformed : .unsupportedVersion)
        }
        guard let sender = NodeID(bytes: datagram.sender), datagram.signature.count == WireFormat.signatureLength else {
            return .failure(.malformed)
        }
        guard keyring.admits(sender, at: now) else { return .failure(.unknownSender) }
        guard limiter.admit(sender, now: now) else { return .failure(.rateLimited) }
        guard let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return .failure(.malformed) }
        if packet.recipient.isEmpty {
            // Only a join (a sync to a seed whose key the sender cannot know yet) may omit it.
            guard case .sync? = packet.message else { return .failure(.misdirected) }
        } else if packet.recipient != signer.nodeID.data {
            return .failure(.misdirected)
        }
        guard replay.isFresh(sender: sender, session: packet.session, sequence: packet.sequence) else {
            return .failure(.replayed)
        }
        if let clockSkewWindow, abs(Int64(clamping: packet.sentAtMs) - now.milliseconds) > clockSkewWindow.milliseconds {
            return .failure(.clockSkew)
        }
        guard verifier.verify(signature: datagram.signature, message: SigningDomain.packet.message(for: datagram.packet), signer: sender) else {
            return .failure(.badSignature)
        }
        replay.record(sender: sender, session: packet.session, sequence: packet.sequence)
        return .success((sender, packet))
    }

    /// The extra bytes an item of `size` bytes costs inside a packet: its tag (field 20: two
    /// bytes) and its length prefix.
    public static func itemOverhead(_ size: Int) -> Int { 2 + varintLength(UInt64(size)) }

    static func varintLength(_ value: UInt64) -> Int {
        var length = 1
        var rest = value >> 7
        while rest > 0 { length += 1; rest >>= 7 }
        return length
    }
}
