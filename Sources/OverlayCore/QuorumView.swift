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
public struct ViewChange: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
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

    /// How long an epoch may go without progress (a new vote in its newest round, or a newer
    /// round) before a member with quorum opens a recovery round as its coordinator, plus a
    /// per-node delay below the vote delay so that coordinators rarely collide. Default 4 s:
    /// four radio protocol periods, long enough for a vote to reach every member through
    /// gossip on a lossy radio cloud, short against the minutes a cloud may take to heal.
    public var roundTimeout: Duration = .seconds(4)

    /// How long a view member must be unknown to SWIM here (never heard of since this node
    /// started, or forgotten after it failed long ago), or failed without refuting it, before
    /// this node wants it removed whatever the number of its accusers. A member that is alive
    /// anywhere reaches this node's membership, or refutes its failure, through a push-pull
    /// within one push-pull interval. Default 60 s: two radio push-pull intervals.
    public var forgottenMemberGrace: Duration = .seconds(60)

    /// Creates the defaults.
    public init() {}

    /// Settings matched to membership timings: the vote delay is two protocol periods, the
    /// evaluation interval half of one, the round timeout four, and the grace for forgotten
    /// members two push-pull intervals.
    public static func matching(_ membership: MembershipSettings) -> QuorumViewSettings {
        var settings = QuorumViewSettings()
        settings.voteDelay = membership.probeInterval.scaled(by: 2)
        settings.evaluationInterval = membership.probeInterval.scaled(by: 0.5)
        settings.roundTimeout = membership.probeInterval.scaled(by: 4)
        settings.forgottenMemberGrace = membership.pushPullInterval.scaled(by: 2)
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
/// node, remove a failed, departed or forgotten one) is decided per epoch by Fast Paxos, the
/// shape Rapid uses: in the fast round every member with quorum votes for the change it
/// wants, and a change commits when a fast quorum (about three quarters of the view) voted
/// for exactly it. When the fast round cannot complete (votes split, voters stopped), a member
/// with quorum opens a recovery round after ``QuorumViewSettings/roundTimeout``: a classic
/// Paxos round it coordinates. The members promise it (and report their last vote); from a
/// majority of promises the coordinator learns the one change that may have won an earlier
/// round and must propose it, or is free to propose its own; a majority of votes for the
/// round commits. Every node that sees the votes moves to `epoch + 1`. Promises and votes are
/// persisted before they are sent, so a restart cannot contradict them.
///
/// A node proposes and coordinates only while it has quorum: a majority of its view
/// reachable. The minority side of a partition therefore never removes the majority (no split
/// brain); it reports `hasQuorum: false` and keeps serving its local data. Anchors: Rapid
/// (Suresh et al., ATC 2018) for multi-observer removal and its fast path with classic
/// fallback; Fast Paxos (Lamport, 2006) for the quorum sizes and the recovery rule; Akka's
/// split brain resolver (keep-majority). Docs/membership-view.md explains the rules and why
/// they are safe.
public struct QuorumView: Sendable {
    struct Vote: Sendable {
        let change: ViewChange
        let item: SignedItem
    }

    struct Promise: Sendable {
        let voted: ViewBallot?
        let change: ViewChange?
        let item: SignedItem
    }

    /// This node.
    public let localID: NodeID
    /// Thresholds and timings.
    public let settings: QuorumViewSettings
    /// The committed view; `nil` while a joining node has not learned one.
    public private(set) var view: CommittedView?
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
    /// What this node promised and voted at the view's epoch (persisted); `nil` before it did
    /// anything at this epoch.
    public private(set) var acceptor: ViewAcceptorState?
    /// Votes by different members for the same round that disagree with their first vote, or
    /// promises that disagree with their first promise (a crash-fault protocol cannot tolerate
    /// them; they are counted, not used).
    public private(set) var equivocations = 0
    /// Recovery rounds this node opened as coordinator, over its lifetime.
    public private(set) var recoveryRoundsOpened = 0

    private let signer: any MessageSigner
    private var votes: [ViewBallot: [NodeID: Vote]] = [:]
    private var promises: [ViewBallot: [NodeID: Promise]] = [:]
    private var newestBallot: ViewBallot = .fast
    private var lastProgress: Instant?
    private var attempts: UInt64 = 0
    private var wanted: ViewChange?
    private var wantedSince: Instant?
    private var nextEvaluation: Instant?
    private var unknownSince: [NodeID: Instant] = [:]
    private var assemblies: [NodeID: Assembly] = [:]

    /// Where a vote was cast (the form older snapshots kept).
    public struct VotePosition: Sendable, Equatable, Codable {
        /// The epoch.
        public var epoch: UInt64
        /// The round.
        public var round: UInt32

        /// Creates a position.
        public init(epoch: UInt64, round: UInt32) {
            self.epoch = epoch
            self.round = round
        }
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
    ///   - signer: signs this node's votes and promises.
    ///   - settings: thresholds and timings.
    ///   - restored: the view persisted before a restart, if any.
    ///   - acceptor: this node's promises and votes persisted with it, if any.
    ///   - lastVote: the round of its last vote, as snapshots of older versions kept it (used
    ///     only without `acceptor`: the node then stays silent at that epoch).
    ///   - bootstrap: with no restored view, whether to start a new cloud of one (a node started
    ///     without seeds); otherwise the node waits to learn the view from a member.
    ///   - session: this run's session number, mixed into a new cloud's lineage.
    public init(
        signer: any MessageSigner, settings: QuorumViewSettings, restored: CommittedView?,
        acceptor: ViewAcceptorState? = nil, lastVote: VotePosition? = nil, bootstrap: Bool, session: UInt64
    ) {
        self.localID = signer.nodeID
        self.signer = signer
        self.settings = settings
        if let restored {
            view = restored
            if let acceptor, acceptor.epoch == restored.epoch {
                self.acceptor = acceptor
            } else if acceptor == nil, let lastVote, lastVote.epoch == restored.epoch {
                var silent = ViewAcceptorState(epoch: lastVote.epoch)
                silent.voted = ViewBallot(round: lastVote.round, coordinator: nil)
                self.acceptor = silent
            }
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

    /// The newest round seen at the current epoch (0: the fast round).
    public var round: UInt32 { newestBallot.round }

    /// The round of this node's last vote at the current epoch, in the form older snapshots
    /// kept.
    public var lastVote: VotePosition? {
        guard let acceptor, let voted = acceptor.voted else { return nil }
        return VotePosition(epoch: acceptor.epoch, round: voted.round)
    }

    /// Votes at the current epoch, by round, for the API: `(round, change, voters)`.
    public var pendingProposals: [(round: UInt32, change: ViewChange, voters: [NodeID])] {
        var out: [(UInt32, ViewChange, [NodeID])] = []
        for ballot in votes.keys.sorted() {
            let byChange = Dictionary(grouping: votes[ballot]!, by: { $0.value.change })
            for change in byChange.keys.sorted() {
                out.append((ballot.round, change, byChange[change]!.map(\.key).sorted()))
            }
        }
        return out
    }

    /// The items a push-pull carries: every vote seen at the current epoch, and the promises
    /// of its newest round.
    public var syncItems: [SignedItem] {
        var items = votes.keys.sorted().flatMap { ballot in votes[ballot]!.keys.sorted().map { votes[ballot]![$0]!.item } }
        if let newest = promises[newestBallot] {
            items += newest.keys.sorted().map { newest[$0]!.item }
        }
        return items
    }

    // MARK: Evaluation

    /// Re-reads membership: updates the quorum status, votes in the fast round when a change
    /// is wanted, and opens a recovery round when the epoch has stalled.
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
        if let view { trackUnknownMembers(members, view: view, now: now) }
        guard status.hasQuorum, let view else {
            wanted = nil
            wantedSince = nil
            return out
        }
        let change = wantedChange(members, view: view, now: now)
        if change.isEmpty {
            wanted = nil
            wantedSince = nil
        } else if change != wanted {
            wanted = change
            wantedSince = now
        }
        let stable = wantedSince.map { now - $0 >= settings.voteDelay } ?? false
        let state = acceptor ?? ViewAcceptorState(epoch: view.epoch)
        if stable, let wanted, state.voted == nil, state.promised == .fast, !state.abstains {
            out += vote(in: .fast, for: choose(wanted), view: view, now: now)
        }
        if let voted = state.voted, let change = state.change, votes[voted]?[localID] == nil {
            // Voted before a restart, and the vote may be lost with the nodes that carried it:
            // sign the same vote again (the same change in the same round is no second vote).
            out += reannounce(change, in: voted, view: view, now: now)
        }
        if state.promised > (state.voted ?? .fast), !state.abstains, promises[state.promised]?[localID] == nil {
            // Promised a round above its last vote before a restart. A member refuses rounds
            // below its promise without a word, so unless the promise is heard again every
            // coordinator that never saw it opens a round this node must refuse, and an epoch
            // whose running members all promised before a power cut never closes (chaos seed
            // 1091). Sign the same promise again: it reports the same last vote, since a member
            // votes in no round below its promise.
            out += reannouncePromise(state, view: view, now: now)
        }
        if stable, lastProgress == nil {
            // Something is wanted and nothing moves (for example every voter voted before a
            // restart): start the round timeout.
            lastProgress = now
        }
        if recoveryDue(view: view, now: now, wantedStable: stable) {
            out += openRecoveryRound(view: view, now: now)
        }
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

    /// Notes since when each view member has been unknown to SWIM here.
    private mutating func trackUnknownMembers(_ members: [MemberObservation], view: CommittedView, now: Instant) {
        let known = Set(members.map(\.id))
        var next: [NodeID: Instant] = [:]
        for member in view.members where member != localID && !known.contains(member) {
            next[member] = unknownSince[member] ?? now
        }
        unknownSince = next
    }

    /// The change this node would vote for: admit live non-members that have been alive for a
    /// vote delay; remove members that left, failed with enough independent accusers (or
    /// failed, unrefuted, for the forgotten-member grace), or have been unknown here for that
    /// grace (they failed so long ago that SWIM dropped them, or nobody running has heard of
    /// them since this node started).
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
            case .failed where inView && (member.accusers >= required || now - member.stateSince >= settings.forgottenMemberGrace):
                // Failed with too few accusers (SWIM stops probing a failed member, so a
                // failure one node declared is rarely confirmed by a second): an alive member
                // refutes its failure within a push-pull interval, so one still failed after
                // the grace is gone, whoever saw it.
                remove.append(member.id)
            default:
                break
            }
        }
        for (member, since) in unknownSince where now - since >= settings.forgottenMemberGrace {
            remove.append(member)
        }
        remove.sort()
        // Removals first: they free the quorum from dead weight; admissions follow next epoch.
        let removals = Array(remove.prefix(settings.maxChangesPerVote))
        let additions = Array(add.prefix(settings.maxChangesPerVote - removals.count))
        return ViewChange(add: additions, remove: removals)
    }

    /// Joins the leading fast vote when everything it changes is also wanted here (so
    /// concurrent voters converge); otherwise votes for the wanted change.
    private func choose(_ wanted: ViewChange) -> ViewChange {
        let current = votes[.fast] ?? [:]
        let tallies = Dictionary(grouping: current.values, by: \.change).mapValues(\.count)
        let ranked = tallies.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
        return ranked.first { $0.key.isSubset(of: wanted) }?.key ?? wanted
    }

    // MARK: Recovery rounds

    /// Whether this node should open a recovery round now: something is being decided at this
    /// epoch (votes or promises were seen, or this node has wanted a change for the vote delay), and the
    /// epoch made no progress for the round timeout (or, when the fast round provably cannot
    /// complete and no recovery round is open, at once), plus this node's own delay.
    private func recoveryDue(view: CommittedView, now: Instant, wantedStable: Bool) -> Bool {
        guard view.contains(localID), !(acceptor?.abstains ?? false) else { return false }
        guard !votes.isEmpty || !promises.isEmpty || wantedStable, let since = lastProgress else { return false }
        let fastLost = newestBallot.isFast && fastRoundCannotComplete(view: view)
        let wait = (fastLost ? .zero : settings.roundTimeout) + stagger(epoch: view.epoch)
        return now - since >= wait
    }

    /// Whether the fast votes seen prove that no change can reach a fast quorum.
    private func fastRoundCannotComplete(view: CommittedView) -> Bool {
        let current = votes[.fast] ?? [:]
        let best = Dictionary(grouping: current.values, by: \.change).values.map(\.count).max() ?? 0
        return best + (view.members.count - current.count) < ViewQuorums.fast(view.members.count)
    }

    /// This node's delay before it opens a round, below the vote delay and different for each
    /// node and attempt (FNV-1a of key, epoch and attempt), so coordinators rarely collide.
    private func stagger(epoch: UInt64) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in localID.bytes + withUnsafeBytes(of: epoch.bigEndian, Array.init) + withUnsafeBytes(of: attempts.bigEndian, Array.init) {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let span = max(1, settings.voteDelay.milliseconds)
        return .milliseconds(Int64(hash % UInt64(span)))
    }

    /// Opens a recovery round above every round seen, with this node as coordinator: it
    /// promises the round itself (Paxos phase 1; its promise is the round's opening).
    private mutating func openRecoveryRound(view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        // Above every round seen and above this node's own promise, so that it can promise it.
        let promised = acceptor?.promised ?? .fast
        let ballot = ViewBallot(round: max(newestBallot.round, promised.round) + 1, coordinator: localID)
        attempts += 1
        recoveryRoundsOpened += 1
        return promise(ballot, view: view, now: now)
    }

    /// Promises `ballot`: never to vote in a lower round at this epoch; reports this node's last
    /// vote with the promise.
    private mutating func promise(_ ballot: ViewBallot, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        var state = acceptor ?? ViewAcceptorState(epoch: view.epoch)
        guard ballot > state.promised, !state.abstains else { return [] }
        state.promised = ballot
        acceptor = state
        let item = recordOwnPromise(state, view: view, now: now)
        return [.persist, .broadcast(item)] + progress(view: view, now: now)
    }

    /// Signs this node's promise of `state.promised`, reporting `state`'s last vote, counts it
    /// among the round's promises and notes the round; the caller broadcasts the item (and
    /// persists a new promise).
    private mutating func recordOwnPromise(_ state: ViewAcceptorState, view: CommittedView, now: Instant) -> SignedItem {
        let ballot = state.promised
        let item = SignedItem(kind: .viewVote(.with {
            $0.epoch = view.epoch
            $0.round = ballot.round
            $0.coordinator = ballot.coordinator?.data ?? Data()
            $0.lineage = view.lineage
            $0.promise = true
            if let voted = state.voted, let change = state.change {
                $0.votedRound = voted.round
                $0.votedCoordinator = voted.coordinator?.data ?? Data()
                $0.add = change.add.map(\.data)
                $0.remove = change.remove.map(\.data)
            }
        }), signer: signer, now: now)
        promises[ballot, default: [:]][localID] = Promise(voted: state.voted, change: state.change, item: item)
        noteBallot(ballot, now: now)
        return item
    }

    /// Signs this node's persisted promise again, unchanged, after a restart lost the item.
    private mutating func reannouncePromise(_ state: ViewAcceptorState, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        let item = recordOwnPromise(state, view: view, now: now)
        return [.broadcast(item)] + progress(view: view, now: now)
    }

    /// The change the coordinator of a round must propose, given a majority of promises
    /// (Fast Paxos's rule): the change voted in the highest round any promiser voted in if that
    /// round was a recovery round (it had one proposal); if it was the fast round, the change
    /// that may have reached a fast quorum there, which is unique; otherwise this node's free
    /// choice: what it wants, or the change most voted for.
    private func forcedOrFreeChange(_ received: [NodeID: Promise], view: CommittedView) -> ViewChange? {
        let reported = received.values.compactMap { promise in promise.voted.flatMap { ballot in promise.change.map { (ballot, $0) } } }
        if let highest = reported.map(\.0).max() {
            let atHighest = reported.filter { $0.0 == highest }.map(\.1)
            if !highest.isFast { return atHighest.min() }
            let tallies = Dictionary(grouping: atHighest, by: { $0 }).mapValues(\.count)
            let needed = ViewQuorums.fast(view.members.count) - (view.members.count - received.count)
            if let possible = tallies.filter({ $0.value >= needed }).keys.min() { return possible }
        }
        if let wanted, !wanted.isEmpty { return wanted }
        let all = votes.values.flatMap(\.values).map(\.change)
        let tallies = Dictionary(grouping: all, by: { $0 }).mapValues(\.count)
        return tallies.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.first?.key
    }

    private mutating func vote(in ballot: ViewBallot, for change: ViewChange, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        var state = acceptor ?? ViewAcceptorState(epoch: view.epoch)
        guard ballot >= state.promised, state.voted.map({ $0 < ballot }) ?? true, !state.abstains else { return [] }
        state.promised = ballot
        state.voted = ballot
        state.change = change
        acceptor = state
        let item = recordOwnVote(change, in: ballot, view: view, now: now)
        return [.persist, .broadcast(item)] + progress(view: view, now: now)
    }

    /// Signs this node's vote for `change` in `ballot`, counts it among the ballot's votes and
    /// notes the ballot; the caller broadcasts the item (and persists a new vote).
    private mutating func recordOwnVote(_ change: ViewChange, in ballot: ViewBallot, view: CommittedView, now: Instant) -> SignedItem {
        let item = SignedItem(kind: .viewVote(.with {
            $0.epoch = view.epoch
            $0.round = ballot.round
            $0.coordinator = ballot.coordinator?.data ?? Data()
            $0.add = change.add.map(\.data)
            $0.remove = change.remove.map(\.data)
            $0.lineage = view.lineage
        }), signer: signer, now: now)
        votes[ballot, default: [:]][localID] = Vote(change: change, item: item)
        noteBallot(ballot, now: now)
        return item
    }

    /// Signs this node's persisted vote again, unchanged, after a restart lost the item.
    private mutating func reannounce(_ change: ViewChange, in ballot: ViewBallot, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        let item = recordOwnVote(change, in: ballot, view: view, now: now)
        return [.broadcast(item)] + progress(view: view, now: now)
    }

    /// Progress at this epoch: the first vote or promise seen, a newer round, or a new vote or
    /// promise in the newest round restarts the round timeout.
    private mutating func noteBallot(_ ballot: ViewBallot, now: Instant) {
        if ballot >= newestBallot || lastProgress == nil {
            newestBallot = max(newestBallot, ballot)
            lastProgress = now
        }
    }

    // MARK: Votes and promises from others

    /// Records a verified vote or promise.
    ///
    /// - Returns: the directives, or `nil` if the item is malformed (keys of the wrong length,
    ///   unsorted, a key both added and removed, too many changes, an empty vote, a recovery
    ///   round without coordinator or the fast round with one).
    public mutating func onVote(_ item: SignedItem, now: Instant) -> [QuorumViewDirective]? {
        guard case .viewVote(let wire)? = item.item.kind else { return nil }
        let add = wire.add.compactMap { NodeID(bytes: $0) }
        let remove = wire.remove.compactMap { NodeID(bytes: $0) }
        guard add.count == wire.add.count, remove.count == wire.remove.count,
              add == Array(Set(add)).sorted(), remove == Array(Set(remove)).sorted(),
              Set(add).isDisjoint(with: remove), add.count + remove.count <= settings.maxChangesPerVote
        else { return nil }
        guard let ballot = Self.ballot(round: wire.round, coordinator: wire.coordinator) else { return nil }
        let change = ViewChange(add: add, remove: remove)
        if wire.promise {
            guard !ballot.isFast else { return nil }
            let voted = change.isEmpty ? nil : Self.ballot(round: wire.votedRound, coordinator: wire.votedCoordinator)
            guard change.isEmpty || voted != nil else { return nil }
            guard let view, accepts(wire, from: item.origin, view: view, ballot: ballot) else { return [] }
            return onPromise(Promise(voted: voted, change: change.isEmpty ? nil : change, item: item), ballot: ballot, view: view, now: now)
        }
        guard !change.isEmpty else { return nil }
        guard let view, accepts(wire, from: item.origin, view: view, ballot: ballot) else { return [] }
        if let existing = votes[ballot]?[item.origin] {
            if existing.change != change { equivocations += 1 }
            return []
        }
        votes[ballot, default: [:]][item.origin] = Vote(change: change, item: item)
        noteBallot(ballot, now: now)
        var out: [QuorumViewDirective] = [.broadcast(item)]
        if let coordinator = ballot.coordinator, coordinator == item.origin, view.contains(localID) {
            // The coordinator's vote is its proposal (Paxos phase 2a): vote the same unless a
            // higher round was promised here.
            out += vote(in: ballot, for: change, view: view, now: now)
        }
        return out + progress(view: view, now: now)
    }

    /// Whether an item is about this view's epoch and from one of its members (others are
    /// relayed, not counted).
    private func accepts(_ wire: Overlayd_V1_ViewVote, from origin: NodeID, view: CommittedView, ballot: ViewBallot) -> Bool {
        wire.epoch == view.epoch && wire.lineage == view.lineage && view.contains(origin)
            && (ballot.coordinator.map(view.contains) ?? true)
    }

    private static func ballot(round: UInt32, coordinator: Data) -> ViewBallot? {
        if coordinator.isEmpty { return round == 0 ? .fast : nil }
        guard round > 0, let id = NodeID(bytes: coordinator) else { return nil }
        return ViewBallot(round: round, coordinator: id)
    }

    private mutating func onPromise(_ promise: Promise, ballot: ViewBallot, view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        let origin = promise.item.origin
        if let existing = promises[ballot]?[origin] {
            if existing.voted != promise.voted || existing.change != promise.change { equivocations += 1 }
            return []
        }
        promises[ballot, default: [:]][origin] = promise
        noteBallot(ballot, now: now)
        var out: [QuorumViewDirective] = [.broadcast(promise.item)]
        if ballot.coordinator == origin, view.contains(localID) {
            // The coordinator's own promise opens the round: promise it too, if it is the
            // highest seen here.
            out += self.promise(ballot, view: view, now: now)
        }
        return out + progress(view: view, now: now)
    }

    /// Commits a change that has a quorum of votes in some round; as coordinator of the round
    /// promised last, proposes once a majority promised it.
    private mutating func progress(view: CommittedView, now: Instant) -> [QuorumViewDirective] {
        let n = view.members.count
        for ballot in votes.keys.sorted() {
            let needed = ballot.isFast ? ViewQuorums.fast(n) : ViewQuorums.classic(n)
            let tallies = Dictionary(grouping: votes[ballot]!.values, by: \.change).mapValues(\.count)
            if let change = tallies.filter({ $0.value >= needed }).keys.min() {
                return commit(change, from: view)
            }
        }
        guard let state = acceptor, state.promised.coordinator == localID, state.voted != state.promised,
              let received = promises[state.promised], received.count >= ViewQuorums.classic(n),
              let change = forcedOrFreeChange(received, view: view)
        else { return [] }
        return vote(in: state.promised, for: change, view: view, now: now)
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
        promises = [:]
        newestBallot = .fast
        lastProgress = nil
        attempts = 0
        acceptor = nil
        wanted = nil
        wantedSince = nil
        assemblies = [:]
        unknownSince = unknownSince.filter { next.contains($0.key) }
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
