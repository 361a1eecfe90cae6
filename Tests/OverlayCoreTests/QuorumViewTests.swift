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

    static func vote(by index: Int, epoch: UInt64 = 7, round: UInt32 = 0, coordinator: Int? = nil, add: [NodeID] = [], remove: [NodeID] = []) -> SignedItem {
        let change = ViewChange(add: add, remove: remove)
        return SignedItem(kind: .viewVote(.with {
            $0.epoch = epoch
            $0.round = round
            $0.coordinator = coordinator.map { TestKeys.id($0).data } ?? Data()
            $0.add = change.add.map(\.data)
            $0.remove = change.remove.map(\.data)
            $0.lineage = Data(repeating: 1, count: 8)
        }), signer: TestKeys.signer(index), now: t0)
    }

    /// A promise by `index` for round `(round, coordinator)`, reporting its last vote.
    static func promise(by index: Int, round: UInt32, coordinator: Int, voted: (round: UInt32, coordinator: Int?, change: ViewChange)? = nil) -> SignedItem {
        SignedItem(kind: .viewVote(.with {
            $0.epoch = 7
            $0.round = round
            $0.coordinator = TestKeys.id(coordinator).data
            $0.promise = true
            $0.lineage = Data(repeating: 1, count: 8)
            if let voted {
                $0.votedRound = voted.round
                $0.votedCoordinator = voted.coordinator.map { TestKeys.id($0).data } ?? Data()
                $0.add = voted.change.add.map(\.data)
                $0.remove = voted.change.remove.map(\.data)
            }
        }), signer: TestKeys.signer(index), now: t0)
    }

    /// The votes and promises node `origin` signed among `directives`, as `(ballot, promise?, change)`.
    static func cast(_ directives: [QuorumViewDirective], by origin: Int = 0) -> [(ballot: ViewBallot, promise: Bool, change: ViewChange)] {
        directives.compactMap { directive in
            guard case .broadcast(let item) = directive, item.origin == TestKeys.id(origin),
                  case .viewVote(let wire)? = item.item.kind else { return nil }
            let ballot = ViewBallot(round: wire.round, coordinator: wire.coordinator.isEmpty ? nil : NodeID(bytes: wire.coordinator))
            let change = ViewChange(add: wire.add.compactMap { NodeID(bytes: $0) }, remove: wire.remove.compactMap { NodeID(bytes: $0) })
            return (ballot, wire.promise, change)
        }
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

    @Test func fastQuorumOfMatchingVotesCommitsTheNextEpoch() throws {
        var view = Self.view(for: 0)
        let remove = [Self.ids[4]]
        #expect(view.onVote(Self.vote(by: 1, remove: remove), now: Self.t0)?.isEmpty == false)
        #expect(view.view?.epoch == 7)
        _ = view.onVote(Self.vote(by: 2, remove: remove), now: Self.t0)
        _ = view.onVote(Self.vote(by: 3, remove: remove), now: Self.t0)
        #expect(view.view?.epoch == 7, "three of five is a majority but not a fast quorum (four of five)")
        let outcome = view.onVote(Self.vote(by: 4, remove: remove), now: Self.t0)
        let directives = try #require(outcome)
        #expect(view.view?.epoch == 8)
        #expect(view.view?.members == Array(Self.ids.prefix(4)))
        #expect(directives.contains { if case .viewChanged(let new, _) = $0 { new.epoch == 8 } else { false } })
        #expect(view.pendingProposals.isEmpty)
    }

    @Test func fastQuorumsMeetEveryMajorityTwiceOver() {
        for n in 1...60 {
            let fast = ViewQuorums.fast(n), classic = ViewQuorums.classic(n)
            #expect(2 * fast + classic > 2 * n, "n = \(n): two fast quorums and a majority share a member")
            #expect(fast <= n && fast >= classic)
            #expect(2 * (fast - 1) + classic <= 2 * n || fast - 1 < classic, "n = \(n): the smallest such size")
        }
        #expect(ViewQuorums.fast(5) == 4 && ViewQuorums.fast(12) == 9 && ViewQuorums.fast(3) == 3)
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

    /// Node 0's view at epoch 7 with 3 failed (two accusers) and 4 unreachable, evaluated every
    /// half second for `seconds`; returns the directives and the time reached.
    static func evaluateRepeatedly(_ view: inout QuorumView, _ states: [Int: MemberState], from start: Instant = t0, seconds: Int) -> ([QuorumViewDirective], Instant) {
        var now = start
        var out: [QuorumViewDirective] = []
        for _ in 0..<(2 * seconds) {
            out += view.evaluate(members: observe(states), now: now)
            now = now + .milliseconds(500)
        }
        return (out, now)
    }

    @Test func aStalledFastRoundIsRecoveredByAMajorityThatAdoptsThePossibleWinner() throws {
        var view = Self.view(for: 0)
        let p = ViewChange(remove: [Self.ids[4]]), q = ViewChange(remove: [Self.ids[3]])
        _ = view.onVote(Self.vote(by: 1, remove: p.remove), now: Self.t0)
        _ = view.onVote(Self.vote(by: 2, remove: p.remove), now: Self.t0)
        _ = view.onVote(Self.vote(by: 3, remove: q.remove), now: Self.t0)
        // Node 0 sees 4 failed: it wants p and joins the leading fast vote.
        let states: [Int: MemberState] = [1: .alive, 2: .alive, 3: .alive, 4: .failed]
        var (out, now) = Self.evaluateRepeatedly(&view, states, seconds: 2)
        #expect(Self.cast(out).map(\.ballot) == [.fast])
        #expect(view.view?.epoch == 7, "p has 3 fast votes of the 4 needed; node 4 never votes")
        (out, now) = Self.evaluateRepeatedly(&view, states, from: now, seconds: 8)
        let opened = try #require(Self.cast(out).first { $0.promise })
        #expect(opened.ballot == ViewBallot(round: 1, coordinator: Self.ids[0]))
        #expect(opened.change == p, "the promise reports node 0's own fast vote")
        #expect(view.acceptor?.promised == opened.ballot)
        _ = view.onVote(Self.promise(by: 1, round: 1, coordinator: 0, voted: (0, nil, p)), now: now)
        let proposed = view.onVote(Self.promise(by: 3, round: 1, coordinator: 0, voted: (0, nil, q)), now: now) ?? []
        #expect(Self.cast(proposed).filter { !$0.promise }.map(\.change) == [p], "p may have won the fast round (3 of 5 seen, 2 unseen): it must be proposed")
        _ = view.onVote(Self.vote(by: 1, round: 1, coordinator: 0, remove: p.remove), now: now)
        #expect(view.view?.epoch == 7, "two of the three needed")
        _ = view.onVote(Self.vote(by: 3, round: 1, coordinator: 0, remove: p.remove), now: now)
        #expect(view.view?.epoch == 8)
        #expect(view.view?.contains(Self.ids[4]) == false)
        #expect(view.view?.contains(Self.ids[3]) == true)
    }

    @Test func aCoordinatorMustProposeTheFastChangeThatMayHaveWonEvenIfItWantsAnother() {
        var view = Self.view(for: 0)
        let p = ViewChange(remove: [Self.ids[4]])
        // Node 0 sees 3 failed only, and opens a recovery round after the fast round stalls.
        var (out, now) = Self.evaluateRepeatedly(&view, [1: .alive, 2: .alive, 3: .failed, 4: .alive], seconds: 2)
        _ = view.onVote(Self.vote(by: 1, remove: p.remove), now: now)
        (out, now) = Self.evaluateRepeatedly(&view, [1: .alive, 2: .alive, 3: .failed, 4: .alive], from: now, seconds: 8)
        let ballot = ViewBallot(round: 1, coordinator: Self.ids[0])
        #expect(Self.cast(out).contains { $0.promise && $0.ballot == ballot })
        _ = view.onVote(Self.promise(by: 1, round: 1, coordinator: 0, voted: (0, nil, p)), now: now)
        _ = view.onVote(Self.promise(by: 2, round: 1, coordinator: 0, voted: (0, nil, p)), now: now)
        // Promises of 0 (its own fast vote, for removing 3), 1 and 2 (p): p has 2 of the 3
        // seen, and with nodes 3 and 4 unseen could have had 4: it is forced.
        #expect(view.acceptor?.voted == ballot)
        #expect(view.acceptor?.change == p)
    }

    @Test func aCoordinatorIsFreeWhenTheMajorityProvesNoFastChangeWon() {
        var view = Self.view(for: 0)
        let p = ViewChange(remove: [Self.ids[4]]), q = ViewChange(remove: [Self.ids[2]])
        _ = view.onVote(Self.vote(by: 1, remove: p.remove), now: Self.t0)
        _ = view.onVote(Self.vote(by: 2, remove: q.remove), now: Self.t0)
        let states: [Int: MemberState] = [1: .alive, 2: .alive, 3: .failed, 4: .alive]
        let (out, now) = Self.evaluateRepeatedly(&view, states, seconds: 3)
        let mine = ViewChange(remove: [Self.ids[3]])
        #expect(Self.cast(out).contains { !$0.promise && $0.ballot == .fast && $0.change == mine })
        let ballot = ViewBallot(round: 1, coordinator: Self.ids[0])
        #expect(view.acceptor?.promised == ballot, "three different fast votes of five: none can reach four, so recovery starts at once")
        _ = view.onVote(Self.promise(by: 1, round: 1, coordinator: 0, voted: (0, nil, p)), now: now)
        _ = view.onVote(Self.promise(by: 2, round: 1, coordinator: 0, voted: (0, nil, q)), now: now)
        #expect(view.acceptor?.voted == ballot)
        #expect(view.acceptor?.change == mine, "each change has 1 of 3 seen: none could have reached 4, so the coordinator proposes its own")
    }

    @Test func aRecoveryRoundAdoptsTheChangeOfTheHighestRoundPromisedToIt() {
        var view = Self.view(for: 0)
        let p = ViewChange(remove: [Self.ids[4]]), q = ViewChange(remove: [Self.ids[2]])
        _ = view.onVote(Self.vote(by: 1, remove: q.remove), now: Self.t0)
        _ = view.onVote(Self.vote(by: 2, remove: q.remove), now: Self.t0)
        _ = view.onVote(Self.promise(by: 3, round: 1, coordinator: 3), now: Self.t0)
        let states: [Int: MemberState] = [1: .alive, 2: .alive, 3: .failed, 4: .alive]
        let (_, now) = Self.evaluateRepeatedly(&view, states, seconds: 6)
        let ballot = ViewBallot(round: 2, coordinator: Self.ids[0])
        #expect(view.acceptor?.promised == ballot, "node 3's round 1 stalled; node 0 opens a higher one")
        _ = view.onVote(Self.promise(by: 1, round: 2, coordinator: 0, voted: (1, 3, p)), now: now)
        _ = view.onVote(Self.promise(by: 2, round: 2, coordinator: 0, voted: (0, nil, q)), now: now)
        #expect(view.acceptor?.voted == ballot)
        #expect(view.acceptor?.change == p, "round 1 of node 3 outranks the fast round: its change may have won")
    }

    @Test func aMemberThatPromisedARoundNeverVotesInALowerOne() {
        var view = Self.view(for: 1)
        let p = ViewChange(remove: [Self.ids[4]]), q = ViewChange(remove: [Self.ids[3]])
        let promised = view.onVote(Self.promise(by: 0, round: 2, coordinator: 0), now: Self.t0) ?? []
        #expect(Self.cast(promised, by: 1).map(\.ballot) == [ViewBallot(round: 2, coordinator: Self.ids[0])])
        #expect(view.acceptor?.promised == ViewBallot(round: 2, coordinator: Self.ids[0]))
        let lower = view.onVote(Self.vote(by: 3, round: 1, coordinator: 3, remove: q.remove), now: Self.t0) ?? []
        #expect(Self.cast(lower, by: 1).isEmpty)
        #expect(view.acceptor?.voted == nil, "round 1/3 is below the promised 2/0")
        _ = view.onVote(Self.vote(by: 0, round: 2, coordinator: 0, remove: p.remove), now: Self.t0)
        #expect(view.acceptor?.voted == ViewBallot(round: 2, coordinator: Self.ids[0]))
        #expect(view.acceptor?.change == p)
        let again = view.onVote(Self.promise(by: 3, round: 1, coordinator: 3), now: Self.t0) ?? []
        #expect(Self.cast(again, by: 1).isEmpty, "no promise for a round below the one promised")
    }

    @Test func malformedRecoveryItemsAreRefused() {
        var view = Self.view(for: 0)
        let fastWithCoordinator = Self.vote(by: 1, round: 0, coordinator: 2, remove: [Self.ids[4]])
        #expect(view.onVote(fastWithCoordinator, now: Self.t0) == nil)
        let recoveryWithout = Self.vote(by: 1, round: 3, remove: [Self.ids[4]])
        #expect(view.onVote(recoveryWithout, now: Self.t0) == nil)
        let promiseForFast = SignedItem(kind: .viewVote(.with {
            $0.epoch = 7
            $0.promise = true
            $0.lineage = Data(repeating: 1, count: 8)
        }), signer: TestKeys.signer(1), now: Self.t0)
        #expect(view.onVote(promiseForFast, now: Self.t0) == nil)
    }

    @Test func aMemberNobodyRemembersIsRemovedAfterTheGrace() {
        var settings = QuorumViewSettings()
        settings.voteDelay = .seconds(1)
        settings.forgottenMemberGrace = .seconds(20)
        var view = QuorumView(
            signer: TestKeys.signer(0), settings: settings,
            restored: CommittedView(epoch: 7, lineage: Data(repeating: 1, count: 8), members: Self.ids), bootstrap: false, session: 1)
        // SWIM here knows 1 and 2 only: 3 and 4 are members of the view nobody mentions.
        var now = Self.t0
        for _ in 0..<30 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive]), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.status.hasQuorum)
        #expect(view.acceptor?.voted == nil, "15 s: still within the grace")
        for _ in 0..<20 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive]), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.acceptor?.change == ViewChange(remove: [Self.ids[3], Self.ids[4]]))
    }

    /// Node 0 restarted in epoch 7 of a view of all five, with `acceptor` as its persisted state.
    static func restartedMember(acceptor: ViewAcceptorState) -> QuorumView {
        var settings = QuorumViewSettings()
        settings.voteDelay = .seconds(1)
        return QuorumView(
            signer: TestKeys.signer(0), settings: settings,
            restored: CommittedView(epoch: 7, lineage: Data(repeating: 1, count: 8), members: Self.ids), acceptor: acceptor,
            bootstrap: false, session: 1)
    }

    @Test func aRestartedVoterSignsItsPersistedVoteAgainAndRecoversIfNobodyElseMoves() {
        var state = ViewAcceptorState(epoch: 7)
        let p = ViewChange(remove: [Self.ids[4]])
        state.voted = .fast
        state.change = p
        var view = Self.restartedMember(acceptor: state)
        let (out, _) = Self.evaluateRepeatedly(&view, [1: .alive, 2: .alive, 3: .alive, 4: .failed], seconds: 8)
        let cast = Self.cast(out)
        #expect(cast.first.map { !$0.promise && $0.ballot == .fast && $0.change == p } == true, "the same vote again, not a new one")
        #expect(cast.filter { !$0.promise && $0.ballot == .fast }.count == 1)
        #expect(cast.contains { $0.promise && $0.ballot == ViewBallot(round: 1, coordinator: Self.ids[0]) && $0.change == p },
                "nobody else voted: after the round timeout this node opens a recovery round, reporting its vote")
    }

    @Test func aRestartKeepsItsPromiseAndVote() {
        var state = ViewAcceptorState(epoch: 7)
        state.promised = ViewBallot(round: 2, coordinator: Self.ids[3])
        var view = Self.restartedMember(acceptor: state)
        var now = Self.t0
        for _ in 0..<4 {
            _ = view.evaluate(members: Self.observe([1: .alive, 2: .alive, 3: .alive, 4: .failed]), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.acceptor?.voted == nil, "promised round 2: no fast vote any more")
        _ = view.onVote(Self.vote(by: 3, round: 1, coordinator: 3, remove: [Self.ids[4]]), now: now)
        #expect(view.acceptor?.voted == nil, "round 1 is below the promise made before the restart")
    }

    /// Chaos seed 1091 (before the fix): every running member had promised a round before a
    /// power cut. A member refuses lower rounds silently, so nobody learned the promised round,
    /// every coordinator opened rounds that were refused, and the epoch never closed.
    @Test(arguments: [nil, ViewBallot.fast] as [ViewBallot?])
    func aRestartedMemberAnnouncesItsPromiseAgainAndOpensRoundsAboveIt(voted: ViewBallot?) {
        var state = ViewAcceptorState(epoch: 7)
        let p = ViewChange(remove: [Self.ids[4]])
        state.promised = ViewBallot(round: 2, coordinator: Self.ids[3])
        state.voted = voted
        state.change = voted.map { _ in p }
        var view = Self.restartedMember(acceptor: state)
        let (out, _) = Self.evaluateRepeatedly(&view, [1: .alive, 2: .alive, 3: .alive, 4: .failed], seconds: 10)
        let cast = Self.cast(out).filter(\.promise)
        let again = cast.filter { $0.ballot == state.promised }
        #expect(again.count == 1, "the promise is signed again, once")
        #expect(again.first?.change == (voted == nil ? ViewChange() : p), "reporting the same last vote")
        #expect(view.round >= 2, "the promised round counts as seen")
        #expect(cast.contains { $0.ballot == ViewBallot(round: 3, coordinator: Self.ids[0]) },
                "nobody else moves: this node opens a round above its own promise, which it can promise")
        #expect(!cast.contains { $0.ballot.round == 1 }, "no round below the promise is opened")
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
            _ = view.evaluate(members: Self.observe(states, accusers: 1, since: Self.t0), now: now)
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

    @Test func aFailureOnlyOneMemberSawRemovesTheMemberOnceUnrefutedForTheGrace() {
        var view = Self.view(for: 0)
        let states: [Int: MemberState] = [1: .alive, 2: .alive, 3: .alive, 4: .failed]
        var now = Self.t0
        for _ in 0..<100 {
            _ = view.evaluate(members: Self.observe(states, accusers: 1, since: Self.t0), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.lastVote == nil, "50 s: within the 60 s grace, the member could still refute")
        for _ in 0..<30 {
            _ = view.evaluate(members: Self.observe(states, accusers: 1, since: Self.t0), now: now)
            now = now + .milliseconds(500)
        }
        #expect(view.acceptor?.change == ViewChange(remove: [Self.ids[4]]))
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
