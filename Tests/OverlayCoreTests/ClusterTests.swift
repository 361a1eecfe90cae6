import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// Whole-cloud behaviour: several agents on the in-memory network, virtual time, radio timings.
@Suite struct ClusterTests {
    /// A cloud of `count` nodes that has finished joining (fails the test if it cannot).
    static func joinedCloud(count: Int, seed: UInt64, settings: MembershipSettings = .radio) throws -> MeshHarness {
        var mesh = MeshHarness(count: count, seed: seed, settings: settings)
        mesh.startAll()
        let joined = mesh.run(for: .seconds(30)) { $0.allRunningSeeEachOtherAlive }
        try #require(joined, "the cloud did not join within 30 s")
        return mesh
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func joinThroughASeedMakesEveryoneSeeEveryoneAlive(seed: UInt64) throws {
        var mesh = MeshHarness(count: 6, seed: seed)
        mesh.startAll()
        #expect(!mesh.allRunningSeeEachOtherAlive)
        let joined = mesh.run(for: .seconds(10)) { $0.allRunningSeeEachOtherAlive }
        #expect(joined, "six nodes join through one seed within 10 s")
        for observer in 0..<6 {
            #expect(mesh.nodes[observer].agent.membership.members.count == 5)
            for subject in 0..<6 where subject != observer {
                let member = try #require(mesh.member(subject, seenBy: observer))
                #expect(member.incarnation == 1)
                #expect(member.name == "node\(subject)")
                #expect(member.endpoint == TestKeys.endpoint(subject))
                #expect(mesh.reportedStates(of: subject, seenBy: observer) == [.alive])
            }
        }
        // Each joiner's first join carries no cookie: the seed refuses it once (and only it) and
        // answers with a challenge no larger than the join; the join sent again with the cookie
        // is answered with the seed's state.
        #expect(mesh.rejections.count == 5)
        #expect(mesh.rejections.allSatisfy { $0.node == 0 && $0.reason == .unverifiedJoin })
        let challenges = mesh.transmissions.filter { $0.kind == .joinChallenge }
        #expect(Set(challenges.compactMap(\.to)) == Set(1...5))
        #expect(challenges.allSatisfy { $0.from == 0 })
        for challenge in challenges {
            let join = try #require(mesh.transmissions.last { $0.from == challenge.to && $0.to == 0 && $0.time <= challenge.time && $0.kind == .sync(replyWanted: true) })
            #expect(challenge.size <= join.size, "a challenge of \(challenge.size) bytes answered a join of \(join.size)")
        }
        #expect(mesh.transmissions.allSatisfy { $0.size <= WireFormat.datagramBudget })
        // The joiners' first datagrams are syncs to the seed, which does not know their keys yet.
        let first = try #require(mesh.transmissions.first { $0.from == 1 })
        #expect(first.kind == .sync(replyWanted: true))
        #expect(first.to == 0)
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func crashedNodeIsSuspectedThenFailedEverywhereWithinTheDetectionBound(seed: UInt64) throws {
        var mesh = try Self.joinedCloud(count: 5, seed: seed)
        mesh.run(for: .seconds(5))
        let victim = 3
        let crashedAt = mesh.now
        mesh.crash(victim)
        let bound = mesh.settings.failureDetectionBound(memberCount: 5)

        let detected = mesh.run(until: crashedAt + bound) { $0.everyoneElse(sees: victim, as: .failed) }
        #expect(detected, "every member marks the crashed node failed within \(bound)")
        // Lifeguard 3.2: the other members' own failed probes confirm the suspicion, so it never
        // runs its full unconfirmed length (12 s here).
        let firstSuspicion = try #require(mesh.changes(about: victim).first { $0.change.to == .suspect }?.time)
        #expect(mesh.now - firstSuspicion < mesh.settings.suspicionMaxTimeout(memberCount: 5))
        for observer in mesh.running {
            let states = mesh.reportedStates(of: victim, seenBy: observer)
            #expect(states.suffix(2) == [.suspect, .failed], "node \(observer) saw \(states)")
            #expect(mesh.member(victim, seenBy: observer)?.incarnation == 1)
            for other in mesh.running where other != observer {
                #expect(mesh.state(of: other, seenBy: observer) == .alive, "no healthy member is failed")
            }
        }
        // Relays that were asked to probe the dead node said so (Lifeguard nacks).
        #expect(mesh.transmissions.contains { $0.time > crashedAt && $0.kind?.isNack == true })
        #expect(mesh.transmissions.contains { $0.time > crashedAt && $0.kind?.isPingRequest(target: TestKeys.id(victim)) == true })
    }

    @Test func suspectedNodeRefutesWithAHigherIncarnationAndIsAliveAgain() throws {
        var mesh = try Self.joinedCloud(count: 5, seed: 11)
        let target = 2
        // Pings to node 2 are lost (direct and relayed), everything else flows: it is suspected
        // but still hears the gossip about itself.
        mesh.dropRule = { _, to, kind in to == target && kind?.isPing == true }
        let suspected = mesh.run(for: .seconds(20)) { mesh in
            mesh.running.contains { mesh.state(of: target, seenBy: $0) == .suspect }
        }
        try #require(suspected)
        mesh.dropRule = nil

        let recovered = mesh.run(for: .seconds(10)) { $0.everyoneElse(sees: target, as: .alive, incarnation: 2) }
        #expect(recovered)
        #expect(mesh.nodes[target].agent.membership.incarnation == 2)
        #expect(mesh.nodes[target].persisted?.incarnation == 2, "the new incarnation is persisted")
        #expect(!mesh.changes(about: target).contains { $0.change.to == .failed })
        #expect(mesh.changes(about: target).contains { $0.change.from == .suspect && $0.change.to == .alive && $0.change.incarnation == 2 })
        mesh.run(for: .seconds(20))
        #expect(mesh.allRunningSeeEachOtherAlive)
    }

    @Test func gracefulLeaveIsSeenAsLeftNotFailed() throws {
        var mesh = try Self.joinedCloud(count: 5, seed: 21)
        mesh.run(for: .seconds(3))
        let leaver = 4
        let leftAt = mesh.now
        mesh.leave(leaver)
        let sent = mesh.transmissions.filter { $0.from == leaver && $0.time == leftAt }
        #expect(sent.count == 4, "the LEFT claim goes at once to every other member (up to 2 × fanout)")
        #expect(sent.allSatisfy { $0.kind == .gossip })

        let seen = mesh.run(for: .seconds(2)) { $0.everyoneElse(sees: leaver, as: .left) }
        #expect(seen)
        mesh.run(for: mesh.settings.failureDetectionBound(memberCount: 5) * 2)
        #expect(mesh.everyoneElse(sees: leaver, as: .left, incarnation: 1))
        let states = mesh.changes(about: leaver).filter { $0.time >= leftAt }.map(\.change.to)
        #expect(!states.isEmpty)
        #expect(states.allSatisfy { $0 == .left }, "never suspected or failed: \(states)")
        // Nobody probes a member that left.
        #expect(!mesh.transmissions.contains { $0.time > leftAt + .seconds(1) && $0.to == leaver && $0.kind?.isPing == true })
    }

    @Test func restartWithSnapshotAndNoSeedRejoinsAtAHigherIncarnation() throws {
        var mesh = try Self.joinedCloud(count: 4, seed: 31)
        mesh.run(for: .seconds(5))
        let joinRefusals = mesh.rejections.count
        let node = 3
        let snapshot = try #require(mesh.nodes[node].persisted)
        #expect(snapshot.incarnation == 1)
        #expect(snapshot.peers.map(\.name) == ["node0", "node1", "node2"])
        mesh.crash(node)
        let failed = mesh.run(for: .seconds(60)) { $0.everyoneElse(sees: node, as: .failed) }
        try #require(failed)

        let restartAt = mesh.now
        mesh.restartFromSnapshot(node)
        #expect(mesh.nodes[node].agent.membership.incarnation == 2)
        let back = mesh.run(for: .seconds(10)) {
            $0.everyoneElse(sees: node, as: .alive, incarnation: 2) && $0.allRunningSeeEachOtherAlive
        }
        #expect(back)
        // It rejoined through its snapshot's peers only: its first datagrams name them as recipients.
        let joins = mesh.transmissions.filter { $0.from == node && $0.time == restartAt }
        #expect(joins.map(\.to) == [0, 1, 2])
        #expect(joins.allSatisfy { $0.kind == .sync(replyWanted: true) })
        #expect(mesh.nodes[node].agent.membership.incarnation == 2)
        #expect(mesh.rejections.count == joinRefusals, "the new session is accepted by everyone's replay guard (and its joins name their recipients: no challenge)")
        #expect(mesh.rejections.allSatisfy { $0.reason == .unverifiedJoin }, "only the first joins of the cloud were refused")
    }

    @Test func indirectProbeKeepsAMemberAliveWhenOnlyTheDirectPathIsBroken() throws {
        var mesh = try Self.joinedCloud(count: 4, seed: 41)
        let (a, c) = (0, 2)
        mesh.dropRule = { from, to, _ in (from == a && to == c) || (from == c && to == a) }
        let cutAt = mesh.now
        mesh.run(for: .seconds(40))

        #expect(mesh.allRunningSeeEachOtherAlive)
        #expect(mesh.changes.filter { $0.time > cutAt }.isEmpty, "nobody was ever suspected")
        // A did try C and went through helpers, which acked on C's behalf.
        let requests = mesh.transmissions.filter { $0.from == a && $0.kind?.isPingRequest(target: TestKeys.id(c)) == true }
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.to != c })
        let relayedAcks = mesh.transmissions.filter { $0.to == a && $0.from != c && $0.kind?.isAck == true && $0.time > cutAt }
        #expect(!relayedAcks.isEmpty)
        #expect(mesh.nodes[a].agent.membership.localHealthScore == 0)
        #expect(mesh.nodes[c].agent.membership.localHealthScore == 0)
    }

    @Test func isolatedNodeRaisesItsHealthScoreAndRecoversAfterHealing() throws {
        var mesh = try Self.joinedCloud(count: 4, seed: 51)
        let lonely = 1
        mesh.dropRule = { from, to, _ in from == lonely || to == lonely }
        mesh.run(for: .seconds(6))
        let score = mesh.nodes[lonely].agent.membership.localHealthScore
        #expect(score >= 2, "missed acks and nacks raise the score (\(score))")
        mesh.dropRule = nil
        mesh.run(for: .seconds(120))
        #expect(mesh.nodes[lonely].agent.membership.localHealthScore < score)
        #expect(mesh.allRunningSeeEachOtherAlive, "the isolated node refutes or rejoins once healed")
    }

    @Test func lossyLinksDoNotFailHealthyMembers() throws {
        var mesh = try Self.joinedCloud(count: 6, seed: 61)
        mesh.lossRate = 0.05
        let start = mesh.now
        mesh.run(for: .seconds(120))
        #expect(!mesh.changes.contains { $0.time > start && $0.change.to == .failed })
        #expect(mesh.transmissions.contains { $0.dropped && $0.time > start })
        #expect(mesh.transmissions.allSatisfy { $0.size <= WireFormat.datagramBudget })
    }
}
