import OverlayWire

/// A member's state as SWIM sees it. The raw values are the API's strings.
public enum MemberState: String, Sendable, CaseIterable, Comparable {
    /// Answering probes.
    case alive
    /// Missed a probe; has until its suspicion timeout to refute.
    case suspect
    /// Declared failed after an unrefuted suspicion.
    case failed
    /// Left gracefully.
    case left

    /// Alive or suspect: still probed, gossiped to, and counted in the cloud's size.
    public var isLive: Bool { self == .alive || self == .suspect }

    /// The precedence among claims with the same incarnation (SWIM 4.2): alive < suspect <
    /// failed < left. A claim replaces another when its `(incarnation, rank)` is larger.
    var rank: Int {
        switch self {
        case .alive: 0
        case .suspect: 1
        case .failed: 2
        case .left: 3
        }
    }

    public static func < (lhs: MemberState, rhs: MemberState) -> Bool { lhs.rank < rhs.rank }

    init?(wire: Overlayd_V1_MemberState) {
        switch wire {
        case .alive: self = .alive
        case .suspect: self = .suspect
        case .failed: self = .failed
        case .left: self = .left
        default: return nil
        }
    }

    var wire: Overlayd_V1_MemberState {
        switch self {
        case .alive: .alive
        case .suspect: .suspect
        case .failed: .failed
        case .left: .left
        }
    }
}

/// One member of the cloud as this node knows it.
public struct Member: Sendable, Equatable {
    /// The member's ID (public key).
    public let id: NodeID
    /// The name the member announces for itself.
    public internal(set) var name: String
    /// Where the member receives datagrams, as it announces it.
    public internal(set) var endpoint: PeerEndpoint
    /// Its current state.
    public internal(set) var state: MemberState
    /// Its incarnation: raised only by the member itself, to refute a suspicion or after a restart.
    public internal(set) var incarnation: UInt64
    /// When this node last changed the member's state.
    public internal(set) var stateSince: Instant
    /// When this node last received a verified datagram from the member.
    public internal(set) var lastHeard: Instant?
    /// A smoothed round-trip time of direct probes (EWMA, weight 1/8 as TCP's SRTT).
    public internal(set) var roundTrip: Duration?
    /// The member's own latest ALIVE claim (carries its name and endpoint).
    var aliveClaim: SignedItem
    /// The claim that set the current state, when it is not ALIVE.
    var stateClaim: SignedItem?

    /// The `(incarnation, rank)` that orders claims about this member.
    var precedence: (UInt64, Int) { (incarnation, state.rank) }
}

/// A change of a member's state, reported to the shell (logs, events, metrics).
public struct MemberChange: Sendable, Equatable {
    /// The member.
    public let id: NodeID
    /// Its name.
    public let name: String
    /// The state before, or `nil` when the member is new.
    public let from: MemberState?
    /// The state now, or `nil` when the member was forgotten.
    public let to: MemberState?
    /// Its incarnation now.
    public let incarnation: UInt64
}
