import Foundation
import OverlayWire

/// Seals outgoing packets into signed datagrams and opens incoming ones.
///
/// Opening checks, cheapest first, so that nothing expensive is done for junk: size, decoding,
/// version, admission (the keyring), the sender's rate, the recipient, replay, the sender's
/// clock, and only then the Ed25519 signature. A datagram refused at any step is reported with
/// its ``RejectReason`` and changes no state.
///
/// Admission is by ``KeyTrust``: the keyring file and the recorded key statements. A sender the
/// trust does not know yet is admitted when its datagram is a sync carrying the ``KeyRoll``
/// that introduces it (signed by a key this node admits), so a node that missed a rotation
/// while it was away can rejoin through members that have all rolled (Serf issue 579). That
/// costs one more signature check, at most ``introductionRate`` a second per predecessor key.
public struct DatagramCodec: Sendable {
    /// This node's session (see ``ReplayGuard``).
    public let session: UInt64
    /// The datagrams sealed so far in this session.
    public private(set) var sequence: UInt64 = 0
    /// The admitted keys: the keyring and the recorded key statements.
    public var trust: KeyTrust
    /// The keyring file in force.
    public var keyring: Keyring {
        get { trust.keyring }
        set { trust.keyring = newValue }
    }
    /// This node's earlier keys, still in their overlap after a roll: datagrams addressed to
    /// them are accepted, as peers that knew the node only by its old key address it so.
    public var formerIDs: Set<NodeID> = []
    /// How far a sender's clock may be from ours; `nil` disables the check.
    public let clockSkewWindow: Duration?

    /// Signs as this node (the agent signs its own key statements and claims with it too).
    let signer: any MessageSigner
    private let verifier: any SignatureVerifier
    private var replay = ReplayGuard()
    private var limiter: RateLimiter
    private var introductions = RateLimiter(ratePerSecond: Self.introductionRate, burst: Self.introductionRate * 2)

    /// Introductions (an unknown sender presenting its roll) checked per second per
    /// predecessor key. 2: a rolled node syncs with a few members at a time.
    public static let introductionRate: Double = 2

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
        self.trust = KeyTrust(keyring: keyring)
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
        let admitted = trust.admits(sender, at: now)
        guard admitted || !trust.isKnown(sender) else { return .failure(.unknownSender) }
        guard admitted || introduction(of: sender, in: datagram, now: now) else { return .failure(.unknownSender) }
        guard limiter.admit(sender, now: now) else { return .failure(.rateLimited) }
        guard let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return .failure(.malformed) }
        if packet.recipient.isEmpty {
            // Only a join (a sync to a seed whose key the sender cannot know yet) may omit it.
            guard case .sync? = packet.message else { return .failure(.misdirected) }
        } else if packet.recipient != signer.nodeID.data, !(NodeID(bytes: packet.recipient).map(formerIDs.contains) ?? false) {
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

    /// Whether an unknown sender's datagram is a sync that carries the roll introducing it.
    /// Cheap first: the packet must decode as a sync and name an admitted predecessor whose
    /// introduction budget is not spent; only then is the roll's signature checked.
    private mutating func introduction(of sender: NodeID, in datagram: Overlayd_V1_Datagram, now: Instant) -> Bool {
        guard let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet), case .sync? = packet.message else { return false }
        for wire in packet.items {
            guard let item = SignedItem(wire: wire), case .roll(let roll)? = KeyStatement(item), roll.successor == sender,
                  trust.wouldAdmit(roll, at: now)
            else { continue }
            guard introductions.admit(roll.predecessor, now: now) else { return false }
            return item.verify(with: verifier)
        }
        return false
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
