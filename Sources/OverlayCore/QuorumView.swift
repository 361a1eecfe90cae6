import Foundation
import OverlayWire

/// A committed membership view: who the members of the cloud are, at one epoch.
public struct CommittedView: Sendable, Equatable, Codable {
    /// Increases by one with every committed change.
    public var epoch: UInt64
    /// Identifies the cloud: the hash of its first view (8 bytes). Two clouds started apart
    /// have different lineages.
    public var lineage: Data
    /// The members, sorted.
    public var members: [NodeID]

    /// Creates a view.
    public init(epoch: UInt64, lineage: Data, members: [NodeID]) {
        self.epoch = epoch
        self.lineage = lineage
        self.members = Array(Set(members)).sorted()
    }

    /// The number of members that is a majority of this view: `⌊n/2⌋ + 1`.
    public var majority: Int { members.count / 2 + 1 }

    /// Whether `id` is a member.
    public func contains(_ id: NodeID) -> Bool {
        members.binarySearch(id)
    }
}

/// A change of the view: members admitted and members removed, each sorted.
public struct ViewChange: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Members admitted.
    public var add: [NodeID]
    /// Members removed.
    public var remove: [NodeID]

    /// Creates a change (sorted, duplicates dropped).
    public init(add: [NodeID] = [], remove: [NodeID] = []) {
        self.add = Array(Set(add)).sorted()
        self.remove = Array(Set(remove)).sorted()
    }

    /// Whether the change changes nothing.
    public var isEmpty: Bool { add.isEmpty && remove.isEmpty }

    /// The number of members it adds or removes.
    public var count: Int { add.count + remove.count }

    /// Whether every addition and removal of `self` is also in `other`.
    public func isSubset(of other: ViewChange) -> Bool {
        Set(add).isSubset(of: other.add) && Set(remove).isSubset(of: other.remove)
    }

    /// Applies the change to a member list.
    public func applied(to members: [NodeID]) -> [NodeID] {
        Array(Set(members).subtracting(remove).union(add)).sorted()
    }

    public static func < (lhs: ViewChange, rhs: ViewChange) -> Bool {
        (lhs.add.lexicographicallyPrecedes(rhs.add)) || (lhs.add == rhs.add && lhs.remove.lexicographicallyPrecedes(rhs.remove))
    }

    public var description: String {
        "+[\(add.map(\.shortForm).joined(separator: ","))] -[\(remove.map(\.shortForm).joined(separator: ","))]"
    }
}

/// Whether this node's side of the network holds a majority of its view.
public struct QuorumStatus: Sendable, Equatable {
    /// `true` when this node is a member and a majority of the view is reachable from here.
    public var hasQuorum: Bool
    /// View members reachable from here (SWIM alive or suspect), this node included.
    public var reachable: Int
    /// The number of members in the view.
    public var viewSize: Int
    /// Whether this node is a member of the view.
    public var isMember: Bool

    /// The status of a node with no view yet.
    public static let none = QuorumStatus(hasQuorum: false, reachable: 0, viewSize: 0, isMember: false)
}

/// The members one node counted reachable when it last found a majority of its view: a set
/// that may act (vote) together.
public struct QuorateSet: Sendable, Equatable {
    /// The lineage of the view the members were counted in (which cloud).
    public var lineage: Data
    /// The epoch of the view the members were counted in.
    public var epoch: UInt64
    /// The reachable view members, this node included, in view order.
    public var members: [NodeID]
}

/// The timings and thresholds of the quorum view.
public struct QuorumViewSettings: Sendable, Equatable {
    /// How long a wanted change must stay the same before this node votes for it, so changes
    /// seen at about the same time (both sides of a partition, several joiners) go into one
    /// vote, as Rapid's cut detection waits for a stable cut. Default 2 s: two radio protocol
    /// periods.
    public var voteDelay: Duration = .seconds(2)

    /// How often the view re-reads membership and decides whether to vote. Default 500 ms.
    public var evaluationInterval: Duration = .milliseconds(500)

    /// Distinct members that must have reported a member unreachable (SUSPECT or FAILED claims
    /// at its current incarnation) before anyone votes to remove it, so one node with a bad
    /// radio link cannot evict a healthy member (Rapid's multi-observer rule). Capped at
    /// `viewSize - 1` in tiny views. Default 2.
    public var removalObservers: Int = 2

    /// The most admissions and removals one vote carries, so a vote always fits a datagram
    /// (16 keys are about 550 bytes). Larger changes take several epochs. Default 16.
    public var maxChangesPerVote: Int = 16

    /// Creates the defaults.
    public init() {}

    /// Settings matched to membership timings: the vote delay is two protocol periods and the
    /// evaluation interval half of one.
    public static func matching(_ membership: MembershipSettings) -> QuorumViewSettings {
        var settings = QuorumViewSettings()
        settings.voteDelay = membership.probeInterval.scaled(by: 2)
        settings.evaluationInterval = membership.probeInterval.scaled(by: 0.5)
        return settings
    }
}

/// What ``QuorumView`` asks of its owner.
public enum QuorumViewDirective: Sendable, Equatable {
    /// Gossip this (vote) item.
    case broadcast(SignedItem)
    /// A new view was committed (or adopted from a member that is ahead).
    case viewChanged(CommittedView, previous: CommittedView?)
    /// Quorum was gained or lost, or the reachable count changed.
    case quorumChanged(QuorumStatus)
    /// The view or this node's last vote changed: persist them.
    case persist
}

/// What the view needs to know about one member from SWIM.
public struct MemberObservation: Sendable, Equatable {
    /// The member.
    public var id: NodeID
    /// Its SWIM state.
    public var state: MemberState
    /// Distinct members that reported it unreachable at its current incarnation.
    public var accusers: Int
    /// Since when it has been in that state.
    public var stateSince: Instant
    /// Whether this node has received a datagram from it directly since it entered that state:
    /// first-hand evidence that it is reachable from here, not only that someone says so.
    public var heardSinceStateChange: Bool

    /// Creates an observation.
    public init(id: NodeID, state: MemberState, accusers: Int, stateSince: Instant, heardSinceStateChange: Bool = true) {
        self.id = id
        self.state = state
        self.accusers = accusers
        self.stateSince = stateSince
        self.heardSinceStateChange = heardSinceStateChange
    }
}

/// The quorum-based membership view, as a pure state machine.
///
/// SWIM says who seems unreachable; the view says who is a member. A change (admit a live
/// node, remove a failed or departed one) is a signed vote for `(epoch, round, change)`; it
/// commits when a majority of the view at `epoch` voted for exactly the same change in the same
/// round, and every node that sees those votes moves to `epoch + 1`. Each member votes at most
/// once per `(epoch, round)` (its last vote is persisted, so a restart cannot vote twice). A
/// round is abandoned only when the votes seen prove that no change can reach a majority in it
/// (so a round can never have committed), which keeps commits unique per epoch without a leader.
///
/// A node votes only while it has quorum: a majority of its view reachable. The minority side
/// of a partition therefore never removes the majority (no split brain); it reports
/// `hasQuorum: false` and keeps serving its local data. Anchors: Rapid (Suresh et al., ATC
/// 2018) for multi-observer removal and agreement on view changes; Akka's split brain resolver
/// (keep-majority). Docs/membership-view.md explains the rules.
public struct QuorumView: Sendable {
    struct Vote: Sendable {
        let change: ViewChange
        let item: SignedItem
    }

    /// This node.
    public let localID: NodeID
    /// Thresholds and timings.
    public let settings: QuorumViewSettings
    /// The committed view; `nil` while a joining node has not learned one.
    public private(set) var view: CommittedView?
    /// The current voting round at the view's epoch.
    public private(set) var round: UInt32 = 0
    /// This node's quorum status as of the last evaluation.
    public private(set) var status: QuorumStatus = .none
    /// The members this node counted reachable at its last evaluation if it had quorum then;
    /// `nil` otherwise, and from a view change until the next evaluation. Any two nodes'
    /// quorate sets must intersect, or two sides could act apart (split brain); the simulator
    /// checks that after every step.
    public private(set) var quorateSet: QuorateSet?
    /// The newest epoch of this cloud's lineage that a member stated in a datagram's header,
    /// when it is newer than the view held here: this node is behind, and reports no quorum
    /// until it has caught up (``noteStatedView(epoch:lineage:)``).
    public private(set) var newerEpochSeen: UInt64?
    /// The `(epoch, round)` of this node's last vote (persisted).
    public private(set) var lastVote: VotePosition?
    /// Votes by different members for the same `(epoch, round)` that disagree with their first
    /// vote (a crash-fault protocol cannot tolerate them; they are counted, not used).
    public private(set) var equivocations = 0

    private let signer: any MessageSigner
    private var votes: [UInt32: [NodeID: Vote]] = [:]
    private var wanted: ViewChange?
    private var wantedSince: Instant?
    private var nextEvaluation: Instant?
    private var assemblies: [NodeID: Assembly] = [:]

    /// Where a vote was cast.
    public struct VotePosition: Sendable, Equatable, Codable {
        /// The epoch.
        public var epoch: UInt64
        /// The round.
        public var round: UInt32
    }

    struct Assembly: Sendable {
        let epoch: UInt64
        let lineage: Data
        let size: Int
        var members: Set<NodeID>
    }

    /// Creates the view of a starting node.
    ///
    /// - Parameters:
    ///   - signer: signs this node's votes.
    ///   - settings: thresholds and timings.
    ///   - restored: the view and last vote persisted before a restart, if any.
    ///   - bootstrap: with no restored view, whether to start a new cloud of one (a node started
    ///     without seeds); otherwise the node waits to learn the view from a member.
    ///   - session: this run's session number, mixed into a new cloud's lineage.
    public init(signer: any MessageSigner, settings: QuorumViewSettings, restored: CommittedView?, lastVote: VotePosition?, bootstrap: Bool, session: UInt64) {
        self.localID = signer.nodeID
        self.signer = signer
        self.settings = settings
        self.lastVote = lastVote
        if let restored {
            view = restored
        } else if bootstrap {
            view = CommittedView(epoch: 1, lineage: Self.lineage(of: signer.nodeID, session: session), members: [signer.nodeID])
        }
    }

    /// A new cloud's lineage: 8 bytes of FNV-1a over the founder's key and session.
    static func lineage(of founder: NodeID, session: UInt64) -> Data {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in founder.bytes + withUnsafeBytes(of: session.bigEndian, Array.init) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return withUnsafeBytes(of: hash.bigEndian) { Data($0) }
    }

    /// When ``evaluate(members:now:)`` wants to run next.
    public var nextDeadline: Instant? { nextEvaluation }

    /// Votes at the current epoch, by round, for the API: `(round, change, voters)`.
    public var pendingProposals: [(round: UInt32, change: ViewChange, voters: [NodeID])] {
        var out: [(UInt32, ViewChange, [NodeID])] = []
        for round in votes.keys.sorted() {
            let byChange = Dictionary(grouping: votes[round]!, by: { $0.value.change })
            for change in byChange.keys.sorted() {
                out.append((round, change, byChange[change]!.map(\.key).sorted()))
            }
        }
        return out
    }

    /// The votes a push-pull carries: every vote seen at the current epoch.
    public var syncItems: [SignedItem] {
        votes.keys.sorted().flatMap { round in votes[round]!.keys.sorted().map { votes[round]![$0]!.item } }
    }

    // MARK: Evaluation

    /// Re-reads membership: updates the quorum status and votes when a change is wanted.
    ///
    /// - Parameters:
    ///   - members: SWIM's view of every other member.
    ///   - now: the current time.
    public mutating func evaluate(members: [MemberObservation], now: Instant) -> [QuorumViewDirective] {
        nextEvaluation = now + settings.evaluationInterval
        var out: [QuorumViewDirective] = []
        let (newStatus, reachable) = computeStatus(members)
        quorateSet = newStatus.hasQuorum ? view.map { QuorateSet(lineage: $0.lineage, epoch: $0.epoch, members: reachable) } : nil
        if newStatus != status {
            status = newStatus
            out.append(.quorumChanged(newStatus))
        }
        guard status.hasQuorum, let view else {
            wanted = nil
            wantedSince = nil
            return out
        }
        let change = wantedChange(members, view: view, now: now)
        if change.isEmpty {
            wanted = nil
            wantedSince = nil
            return out
        }
        if change != wanted {
            wanted = change
            wantedSince = now
            return out
        }
        guard let since = wantedSince, now - since >= settings.voteDelay else { return out }
        if let lastVote, lastVote.epoch == view.epoch, lastVote.round >= round { return out }
        out += vote(for: choose(change, view: view), view: view, now: now)
        return out
    }

    /// Quorum is kept while a majority of the view is alive or suspect here, but gained only
    /// with first-hand evidence: members alive and heard from directly since they became alive.
    /// Otherwise, while a partition forms, a refutation relayed from the other side just before
    /// the cut could make a minority node count a member it can no longer reach.
    private func computeStatus(_ members: [MemberObservation]) -> (status: QuorumStatus, reachable: [NodeID]) {
        guard let view else { return (.none, []) }
        if newerEpochSeen != nil {
            // Behind the cloud: whoever this node counts may have moved on without it.
            return (QuorumStatus(hasQuorum: false, reachable: 1, viewSize: view.members.count, isMember: view.contains(localID)), [])
        }
        let keeping = status.hasQuorum && status.viewSize == view.members.count
        let live = Set(members.filter {
            keeping ? ($0.state == .alive || $0.state == .suspect) : ($0.state == .alive && $0.heardSinceStateChange)
        }.map(\.id))
        let isMember = view.contains(localID)
        let reachable = view.members.filter { $0 == localID || live.contains($0) }
        let status = QuorumStatus(
            hasQuorum: isMember && reachable.count >= view.majority, reachable: reachable.count,
            viewSize: view.members.count, isMember: isMember)
        return (status, reachable)
    }

    /// The change this node would vote for: admit live non-members that have been alive for a
    /// vote delay; remove members that left, or failed with enough independent accusers.
    private func wantedChange(_ members: [MemberObservation], view: CommittedView, now: Instant) -> ViewChange {
        let required = min(settings.removalObservers, max(1, view.members.count - 1))
        var add: [NodeID] = []
        var remove: [NodeID] = []
        for member in members.sorted(by: { $0.id < $1.id }) {
            let inView = view.contains(member.id)
            switch member.state {
            case .alive where !inView && now - member.stateSince >= settings.voteDelay:
                add.append(member.id)
            case .left where inView:
                remove.append(member.id)
            case .failed where inView && member.accusers >= required:
                remove.append(member.id)
            default:
                break
            }
        }
        // Removals first: they free the quorum from dead weight; admissions follow next epoch.
        let removals = Array(remove.prefix(settings.maxChangesPerVote))
        let additions = Array(add.prefix(settings.maxChangesPerVote - removals.count))
        return ViewChange(add: additions, remove: removals)
    }

    /// Joins the leading existing vote of this round when everything it changes is also wanted
    /// here (so concurrent voters converge); otherwise votes for the wanted change.
    private func choose(_ wanted: ViewChange, view: CommittedView) -> ViewChange {
        let current = votes[round] ?? [:]
        let tallies = Dictionary(grouping: current.values, by: \.change).mapValues(\.count)
        let ranked = tallies.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        return ranked.first { $0.key.isSubset(of: wanted) }?.key ?? wanted
    }

    private mutating func vote(for change: ViewChange, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        let item = SignedItem(kind: .viewVote(.with {
            $0.epoch = view.epoch
            $0.round = round
            $0.add = change.add.map(\.data)
            $0.remove = change.remove.map(\.data)
            $0.lineage = view.lineage
        }), signer: signer, now: now)
        lastVote = VotePosition(epoch: view.epoch, round: round)
        votes[round, default: [:]][localID] = Vote(change: change, item: item)
        return [.broadcast(item), .persist] + progress()
    }

    // MARK: Votes from others

    /// Records a verified vote.
    ///
    /// - Returns: the directives, or `nil` if the vote is malformed (keys of the wrong length,
    ///   unsorted, a key both added and removed, too many changes).
    public mutating func onVote(_ item: SignedItem, now: Instant) -> [QuorumViewDirective]? {
        guard case .viewVote(let wire)? = item.item.kind else { return nil }
        let add = wire.add.compactMap { NodeID(bytes: $0) }
        let remove = wire.remove.compactMap { NodeID(bytes: $0) }
        guard add.count == wire.add.count, remove.count == wire.remove.count,
              add == Array(Set(add)).sorted(), remove == Array(Set(remove)).sorted(),
              Set(add).isDisjoint(with: remove), add.count + remove.count <= settings.maxChangesPerVote,
              !(add.isEmpty && remove.isEmpty) else { return nil }
        guard let view, wire.epoch == view.epoch, wire.lineage == view.lineage, view.contains(item.origin) else {
            return []  // another epoch or cloud: relayed, not counted
        }
        let change = ViewChange(add: add, remove: remove)
        if let existing = votes[wire.round]?[item.origin] {
            if existing.change != change { equivocations += 1 }
            return []
        }
        guard wire.round >= round else { return [] }
        votes[wire.round, default: [:]][item.origin] = Vote(change: change, item: item)
        return [.broadcast(item)] + progress()
    }

    /// Commits a change that has a majority in some round, or abandons the current round when
    /// the votes prove nothing can win it.
    private mutating func progress() -> [QuorumViewDirective] {
        guard let view else { return [] }
        for candidate in votes.keys.sorted() where candidate >= round {
            let tallies = Dictionary(grouping: votes[candidate]!.values, by: \.change).mapValues(\.count)
            if let (change, _) = tallies.filter({ $0.value >= view.majority }).min(by: { $0.key < $1.key }) {
                return commit(change, from: view)
            }
        }
        while let current = votes[round] {
            let tallies = Dictionary(grouping: current.values, by: \.change).mapValues(\.count)
            let unseen = view.members.count - current.count
            let best = tallies.values.max() ?? 0
            guard best + unseen < view.majority else { break }
            // No change can reach a majority in this round any more: open the next one.
            round += 1
        }
        return []
    }

    private mutating func commit(_ change: ViewChange, from previous: CommittedView) -> [QuorumViewDirective] {
        let next = CommittedView(epoch: previous.epoch + 1, lineage: previous.lineage, members: change.applied(to: previous.members))
        install(next)
        return [.viewChanged(next, previous: previous), .persist]
    }

    private mutating func install(_ next: CommittedView) {
        view = next
        quorateSet = nil
        if let newer = newerEpochSeen, newer <= next.epoch { newerEpochSeen = nil }
        votes = [:]
        round = 0
        wanted = nil
        wantedSince = nil
        assemblies = [:]
    }

    // MARK: Catching up

    /// Notes the view a member stated in a datagram's header.
    ///
    /// A newer epoch of this node's lineage proves this node behind: a majority committed a
    /// view it has not seen, possibly without it. It reports no quorum from the next
    /// evaluation until it holds that epoch (the agent evaluates at once and asks the member
    /// for its view).
    /// Other lineages (a cloud founded apart) and older epochs are ignored.
    ///
    /// - Returns: `true` if the stated view is newer than the one held here.
    public mutating func noteStatedView(epoch: UInt64, lineage: Data) -> Bool {
        guard let view, lineage == view.lineage, epoch > view.epoch else { return false }
        newerEpochSeen = max(newerEpochSeen ?? 0, epoch)
        return true
    }

    // MARK: Catching up through push-pull

    /// The view fields a push-pull carries.
    public var syncHeader: (epoch: UInt64, lineage: Data, members: [NodeID]) {
        guard let view else { return (0, Data(), []) }
        return (view.epoch, view.lineage, view.members)
    }

    /// Takes in the view stated by a member in a push-pull (its members may arrive over several
    /// datagrams). A node adopts it when it has no view, when it is the same cloud at a higher
    /// epoch (this node missed commits, for example while partitioned or evicted), or when it is
    /// another cloud that is larger (two clouds started apart merge into the larger one; ties go
    /// to the smaller lineage). Only committed views are ever stated, so adopting one never
    /// creates a second view at an epoch.
    public mutating func onSyncView(from sender: NodeID, epoch: UInt64, lineage: Data, size: Int, members: [NodeID]) -> [QuorumViewDirective] {
        guard epoch > 0, size > 0, size <= 100_000, lineage.count == 8 else { return [] }
        if let view {
            let wanted = lineage == view.lineage
                ? epoch > view.epoch
                : size > view.members.count || (size == view.members.count && lineage.lexicographicallyPrecedes(view.lineage))
            guard wanted else { return [] }
        }
        var assembly = assemblies[sender]
        if assembly == nil || assembly!.epoch != epoch || assembly!.lineage != lineage {
            assembly = Assembly(epoch: epoch, lineage: lineage, size: size, members: [])
        }
        assembly!.members.formUnion(members)
        guard assembly!.members.count >= size else {
            assemblies[sender] = assembly
            return []
        }
        let previous = view
        let next = CommittedView(epoch: epoch, lineage: lineage, members: Array(assembly!.members))
        install(next)
        return [.viewChanged(next, previous: previous), .persist]
    }
}

extension Array where Element: Comparable {
    /// Binary search in a sorted array.
    func binarySearch(_ value: Element) -> Bool {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] == value { return true }
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return false
    }
}
