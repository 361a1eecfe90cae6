import Foundation

/// A voting round of the quorum view at one epoch: the fast round, or a recovery round owned
/// by one coordinator (a Paxos ballot).
///
/// Round 0 is the fast round (Fast Paxos, as in Rapid): any member may propose a change, and a
/// change commits when a fast quorum (about three quarters of the view) voted for exactly it.
/// Rounds from 1 on are classic Paxos rounds: `(round, coordinator)` is unique to its
/// coordinator, and ballots are ordered by round, then by coordinator key, so two coordinators
/// that open the same round number are still ordered.
public struct ViewBallot: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The round number: 0 for the fast round.
    public var round: UInt32
    /// The coordinator of a recovery round; `nil` in the fast round.
    public var coordinator: NodeID?

    /// Creates a ballot.
    public init(round: UInt32, coordinator: NodeID?) {
        self.round = round
        self.coordinator = coordinator
    }

    /// The fast round, where anyone may propose.
    public static let fast = ViewBallot(round: 0, coordinator: nil)

    /// Whether this is the fast round.
    public var isFast: Bool { coordinator == nil }

    public static func < (lhs: ViewBallot, rhs: ViewBallot) -> Bool {
        if lhs.round != rhs.round { return lhs.round < rhs.round }
        switch (lhs.coordinator, rhs.coordinator) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let a?, let b?): return a < b
        }
    }

    public var description: String {
        coordinator.map { "\(round)/\($0.shortForm)" } ?? "fast"
    }
}

/// What one member has promised and voted at one epoch: the acceptor's state of Paxos, which
/// must survive a restart (it is persisted before any promise or vote is sent), or the member
/// could contradict itself after a crash.
public struct ViewAcceptorState: Sendable, Equatable, Codable {
    /// The epoch these promises and votes are about.
    public var epoch: UInt64
    /// The highest ballot this member promised; ``ViewBallot/fast`` if it promised none. It
    /// never votes in a lower ballot again.
    public var promised: ViewBallot
    /// The ballot of its last vote, if it voted at this epoch.
    public var voted: ViewBallot?
    /// The change of that vote. `nil` with a ``voted`` ballot means the change is not known
    /// (restored from a snapshot of an older version, which kept only the round): the member then
    /// neither votes nor promises again at this epoch, since it could not report its vote.
    public var change: ViewChange?

    /// Creates the state of a member that has done nothing yet at `epoch`.
    public init(epoch: UInt64) {
        self.epoch = epoch
        self.promised = .fast
    }

    /// Whether this member must stay silent at this epoch (it voted, but forgot for what).
    public var abstains: Bool { voted != nil && change == nil }
}

/// The quorum sizes of a view of `n` members (Fast Paxos, Lamport 2006, section 3.3).
public enum ViewQuorums {
    /// A classic quorum: a majority, `⌊n/2⌋ + 1`.
    public static func classic(_ n: Int) -> Int { n / 2 + 1 }

    /// A fast quorum: the smallest size `f` with `2f + classic(n) > 2n`, so that any classic
    /// quorum meets any two fast quorums in a common member. That is what lets a recovery round
    /// tell, from a majority of promises, the one change that may have won the fast round.
    /// 4 of 5, 9 of 12, 3 of 3 and 4; about three quarters of larger views.
    public static func fast(_ n: Int) -> Int { (2 * n - classic(n)) / 2 + 1 }
}
