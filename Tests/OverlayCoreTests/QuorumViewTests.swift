import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// The quorum view as a pure state machine: votes, commits, rounds, restarts.
@Suite struct QuorumViewTests {
    static let t0 = Instant(milliseconds: 1_000_000)
    static let ids = (0..<5).map { TestKeys.id($0) }

    /// A view of the five test nodes at epoch 7, as node `index` holds it.
    static func view(for index: Int, members: [NodeID] = ids, lastVote: QuorumView.VotePosition? = nil) -> QuorumView {
        var settings = QuorumViewSettings()
        settings.voteDelay = .seconds(1)
        return QuorumView(
            signer: TestKeys.signer(index), settings: settings,
            restored: CommittedView(epoch: 7, lineage: Data(repeating: 1, count: 8), members: members),
            lastVote: lastVote, bootstrap: false, session: 1)
    }

    static func vote(by index: Int, epoch: UInt64 = 7, round: UInt32 = 0, add: [NodeID] = [], remove: [NodeID] = []) -> SignedItem {
        let change = ViewChange(add: add, remove: remove)
        return SignedItem(kind: .viewVote(.with {
            $0.epoch = epoch
            $0.round = round
            $0.add = change.add.map(\.data)
            $0.remove = change.remove.map(\.data)
            $0.lineage = Data(repeating: 1, count: 8)
        }), signer: TestKeys.signer(index), now: t0)
    }

    static func observe(_ states: [Int: MemberState], accusers: Int = 2, since: Instant = Instant(milliseconds: 0)) -> [MemberObservation] {
        states.keys.sorted().map { MemberObservation(id: TestKeys.id($0), state: states[$0]!, accusers: accusers, stateSince: since) }
    }

    @Test func oneNodeCloudBootstrapsItselfWithQuorum() {
        var view = QuorumView(signer: TestKeys.signer(0), settings: QuorumViewSettings(), restored: nil, lastVote: nil, bootstrap: true, session: 42)
        #expect(view.view?.epoch == 1)
        #expect(view.view?.members == [TestKeys.id(0)])
        let directives = view.evaluate(members: [], now: Self.t0)
        #expect(view.status == QuorumStatus(hasQuorum: true, reachable: 1, viewSize: 1, isMember: true))
        #expect(directives.contains(.quorumChanged(view.status)))
    }

    @Test func joiningNodeWaitsForAViewAndHasNoQuorum() {
        var view = QuorumView(signer: TestKeys.signer(3), settings: QuorumViewSettings(), restored: nil, lastVote: nil, bootstrap: false, session: 42)
        #expect(view.view == nil)
        _ = view.evaluate(members: Self.observe([0: .alive]), now: Self.t0)
        #expect(!view.status.hasQuorum)
    }

    @Test func majorityOfMatchingVotesCommitsTheNextEpoch() throws {
        var view = Self.view(for: 0)
        let remove = [Self.ids[4]]
        #expect(view.onVote(Self.vote(by: 1, remove: remove), now: Self.t0)?.isEmpty == false)
        #expect(view.view?.epoch == 7)
        _ = view.onVote(Self.vote(by: 2, remove: remove), now: Self.t0)
        #expect(view.view?.epoch == 7, "two of five is not a majority")
        let outcome = view.onVote(Self.vote(by: 3, remove: remove), now: Self.t0)
        let directives = try #require(outcome)
        #expect(view.view?.epoch == 8)
        #expect(view.view?.members == Array(Self.ids.prefix(4)))
        #expect(directives.contains { if case .viewChanged(let new, _) = $0 { new.epoch == 8 } else { false } })
        #expect(view.pendingProposals.isEmpty)
    }

    @Test func votesFromNonMembersOrOtherEpochsAreNotCounted() {
        var view = Self.view(for: 0, members: Array(Self.ids.prefix(3)))
        let remove = [Self.ids[2]]
        _ = view.onVote(Self.vote(by: 3, remove: remove), now: Self.t0)  // not a member
        _ = view.onVote(Self.vote(by: 1, epoch: 6, remove: remove), now: Self.t0)  // stale epoch
        #expect(view.view?.epoch == 7)
        #expect(view.pendingProposals.isEmpty)
        _ = view.onVote(Self.vote(by: 1, remove: remove), now: Self.t0)
        #expect(view.pendingProposals.count == 1)
    }

    @Test func malformedVotesAreRefused() {
        var view = Self.view(for: 0)
        let both = SignedItem(kind: .viewVote(.with {
            $0.epoch = 7
            $0.add = [Self.ids[4].data]
            $0.remove = [Self.ids[4].data]
            $0.lineage = Data(repeating: 1, count: 8)
        }), signer: TestKeys.signer(1), now: Self.t0)
        #expect(view.onVote(both, now: Self.t0) == nil)
        let short = SignedItem(kind: .viewVote(.with { $0.epoch = 7; $0.remove = [Data([1, 2])] }), signer: TestKeys.signer(1), now: Self.t0)
        #expect(view.onVote(short, now: Self.t0) == nil)
        let empty = SignedItem(kind: .viewVote(.with { $0.epoch = 7 }), signer: TestKeys.signer(1), now: Self.t0)
        #expect(view.onVote(empty, now: Self.t0) == nil)
    }

    @Test func conflictingVotesThatCannotWinOpenTheNextRoundWhichThenCommits() {
        var view = Self.view(for: 0)
        let p = [Self.ids[4]], q = [Self.ids[3]]
        _ = view.onVote(Self.vote(by: 1, remove: p), now: Self.t0)
        _ = view.onVote(Self.vote(by: 2, remove: q), now: Self.t0)
        _ = view.onVote(Self.vote(by: 3, remove: p), now: Self.t0)
        #expect(view.round == 0, "p can still reach 3 of 5 with the two unseen votes")
        _ = view.onVote(Self.vote(by: 4, remove: q), now: Self.t0)
        #expect(view.round == 0, "p and q each have 2, one vote unseen: still possible")
        // Node 0 votes for a third change: now nobody can reach 3 in round 0.
        _ = view.onVote(Self.vote(by: 0, add: [TestKeys.id(7)]), now: Self.t0)
        #expect(view.round == 1)
        #expect(view.view?.epoch == 7)
        for voter in 1...3 { _ = view.onVote(Self.vote(by: voter, round: 1, remove: q), now: Self.t0) }
        #expect(view.view?.epoch == 8)
        #expect(view.view?.contains(Self.ids[3]) == false)
        #expect(view.view?.contains(Self.ids[4]) == true)
    }

    @Test func aSecondDifferentVoteFromOneMemberIsIgnoredAndCounted() {
        var view = Self.view(for: 0)
        _ = view.onVote(Self.vote(by: 1, remove: [Self.ids[4]]), now: Self.t0)
        _ = view.onVote(Self.vote(by: 1, remove: [Self.ids[3]]), now: Self.t0)
        #expect(view.equivocations == 1)
        #expect(view.pendingProposals.map(\.change) == [ViewChange(remove: [Self.ids[4]])])
    }

    @Test func failedMemberIsRemovedOnlyWithSeveralIndependentAccusers() {
        var view = Self.view(for: 0)
        var states: [Int: MemberState] = [1: .alive, 2: .alive, 3: .alive, 4: .failed]
        var now = Self.t0
        for _ in 0..<10 {
            _ = view.evaluate(members: Self.observe(states, accusers: 1), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.lastVote == nil, "one accuser (a bad radio link) is not enough")
        states[4] = .failed
        var voted: [QuorumViewDirective] = []
        for _ in 0..<10 {
            voted += view.evaluate(members: Self.observe(states, accusers: 2), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.lastVote == QuorumView.VotePosition(epoch: 7, round: 0))
        #expect(view.pendingProposals.first?.change == ViewChange(remove: [Self.ids[4]]))
        #expect(voted.contains { if case .broadcast = $0 { true } else { false } })
    }

    @Test func memberThatLeftIsRemovedWithoutAccusers() {
        var view = Self.view(for: 0)
        var now = Self.t0
        for _ in 0..<6 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive, 3: .alive, 4: .left], accusers: 0), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.pendingProposals.first?.change == ViewChange(remove: [Self.ids[4]]))
    }

    @Test func minoritySideNeverVotes() {
        var view = Self.view(for: 0)
        var now = Self.t0
        for _ in 0..<20 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .failed, 3: .failed, 4: .failed], accusers: 4), now: now)
            now = now + .milliseconds(500)
        }
        #expect(!view.status.hasQuorum)
        #expect(view.status.reachable == 2)
        #expect(view.lastVote == nil)
        #expect(view.view?.epoch == 7)
    }

    @Test func aVoteJoinsTheLeadingProposalWhenItIsAlsoWanted() {
        var view = Self.view(for: 0)
        _ = view.onVote(Self.vote(by: 1, remove: [Self.ids[4]]), now: Self.t0)
        var now = Self.t0
        for _ in 0..<6 {
            // Node 0 would remove both 3 and 4; node 1's narrower vote is a subset: join it.
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive, 3: .failed, 4: .failed]), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.pendingProposals.count == 1)
        #expect(view.pendingProposals.first?.voters.count == 2)
    }

    @Test func restartDoesNotVoteAgainInTheSameRound() {
        var view = Self.view(for: 0, lastVote: QuorumView.VotePosition(epoch: 7, round: 0))
        var now = Self.t0
        for _ in 0..<10 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive, 3: .alive, 4: .failed]), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.pendingProposals.isEmpty, "the vote before the restart may be out there; a second one could equivocate")
    }

    @Test func aNodeThatHearsANewerEpochStatedReportsNoQuorumUntilItCatchesUp() {
        var view = Self.view(for: 0)
        let lineage = Data(repeating: 1, count: 8)
        let everyone = Self.observe([1: .alive, 2: .alive, 3: .alive, 4: .alive])
        _ = view.evaluate(members: everyone, now: Self.t0)
        #expect(view.status.hasQuorum)
        let same = view.noteStatedView(epoch: 7, lineage: lineage)
        let older = view.noteStatedView(epoch: 6, lineage: lineage)
        let otherCloud = view.noteStatedView(epoch: 9, lineage: Data(repeating: 2, count: 8))
        #expect(!same && !older && !otherCloud, "the same epoch, an older one, another cloud's")
        _ = view.evaluate(members: everyone, now: Self.t0 + .milliseconds(500))
        #expect(view.status.hasQuorum)

        let newer = view.noteStatedView(epoch: 8, lineage: lineage)
        #expect(newer)
        let directives = view.evaluate(members: everyone, now: Self.t0 + .seconds(1))
        #expect(!view.status.hasQuorum, "a majority moved to epoch 8, possibly without this node")
        #expect(view.quorateSet == nil)
        #expect(directives.contains(.quorumChanged(view.status)))
        #expect(view.pendingProposals.isEmpty)

        _ = view.onSyncView(from: Self.ids[1], epoch: 8, lineage: lineage, size: 5, members: Self.ids)
        #expect(view.view?.epoch == 8)
        #expect(view.newerEpochSeen == nil)
        _ = view.evaluate(members: everyone, now: Self.t0 + .seconds(2))
        #expect(view.status.hasQuorum)
    }

    @Test func laggingNodeAdoptsAHigherEpochOfItsCloudButNeverALowerOne() {
        var view = Self.view(for: 4)
        let lineage = Data(repeating: 1, count: 8)
        _ = view.onSyncView(from: Self.ids[0], epoch: 6, lineage: lineage, size: 3, members: Array(Self.ids.prefix(3)))
        #expect(view.view?.epoch == 7)
        _ = view.onSyncView(from: Self.ids[0], epoch: 9, lineage: lineage, size: 3, members: Array(Self.ids.prefix(2)))
        #expect(view.view?.epoch == 7, "members still arriving")
        let directives = view.onSyncView(from: Self.ids[0], epoch: 9, lineage: lineage, size: 3, members: [Self.ids[2]])
        #expect(view.view == CommittedView(epoch: 9, lineage: lineage, members: Array(Self.ids.prefix(3))))
        #expect(directives.contains(.persist))
        _ = view.evaluate(members: Self.observe([0: .alive, 1: .alive, 2: .alive]), now: Self.t0)
        #expect(!view.status.isMember)
        #expect(!view.status.hasQuorum)
    }

    @Test func twoCloudsStartedApartMergeIntoTheLargerOne() {
        var small = QuorumView(signer: TestKeys.signer(4), settings: QuorumViewSettings(), restored: nil, lastVote: nil, bootstrap: true, session: 1)
        let big = Data(repeating: 9, count: 8)
        _ = small.onSyncView(from: Self.ids[0], epoch: 3, lineage: big, size: 2, members: Array(Self.ids.prefix(2)))
        #expect(small.view?.lineage == big)
        var large = Self.view(for: 0)
        _ = large.onSyncView(from: Self.ids[4], epoch: 30, lineage: Data(repeating: 0, count: 8), size: 1, members: [Self.ids[4]])
        #expect(large.view?.epoch == 7, "a smaller cloud never takes over, whatever its epoch")
    }
}
