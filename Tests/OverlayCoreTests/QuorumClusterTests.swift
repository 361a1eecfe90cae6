import Foundation
import Testing
@testable import OverlayCore

/// The quorum view across a simulated cloud (virtual time, the real agents): admissions,
/// partitions, healing, flapping links, crashes mid-vote; with the split-brain invariants
/// checked after every run.
@Suite struct QuorumClusterTests {
    static let settings = MembershipSettings.fast

    /// Never two different committed views with the same epoch (in one cloud), anywhere, ever.
    static func checkOneViewPerEpoch(_ mesh: MeshHarness, sourceLocation: SourceLocation = #_sourceLocation) {
        var seen: [String: [NodeID]] = [:]
        for record in mesh.views {
            let key = "\(record.view.lineage.map { String($0) }.joined())/\(record.view.epoch)"
            if let earlier = seen[key] {
                #expect(earlier == record.view.members, "two views at epoch \(record.view.epoch)", sourceLocation: sourceLocation)
            } else {
                seen[key] = record.view.members
            }
        }
    }

    static func view(_ mesh: MeshHarness, _ index: Int) -> CommittedView? { mesh.nodes[index].agent.quorumView?.view }
    static func quorum(_ mesh: MeshHarness, _ index: Int) -> Bool { mesh.nodes[index].agent.quorumStatus.hasQuorum }

    static func converged(_ mesh: MeshHarness, _ indices: [Int], size: Int) -> Bool {
        guard let first = view(mesh, indices[0]), first.members.count == size else { return false }
        return indices.allSatisfy { view(mesh, $0) == first }
    }

    static func formed(seed: UInt64) -> MeshHarness {
        var mesh = MeshHarness(count: 5, seed: seed, settings: settings)
        mesh.startAll()
        let ok = mesh.run(for: .seconds(30)) { mesh in converged(mesh, Array(0..<5), size: 5) && (0..<5).allSatisfy { quorum(mesh, $0) } }
        #expect(ok, "the five nodes did not agree on a five-member view")
        return mesh
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func joinersAreAdmittedByMajorityVotes(seed: UInt64) {
        let mesh = Self.formed(seed: seed)
        #expect(Self.view(mesh, 0)!.members == (0..<5).map { TestKeys.id($0) }.sorted())
        Self.checkOneViewPerEpoch(mesh)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func majoritySideRemovesTheMinorityWhichNeverEvictsAndTheyReconcileAfterHealing(seed: UInt64) {
        var mesh = Self.formed(seed: seed)
        let majority = [0, 1, 2], minority = [3, 4]
        let before = Self.view(mesh, 3)!
        mesh.dropRule = { from, to, _ in majority.contains(from) != majority.contains(to) }
        let start = mesh.now
        let committed = mesh.run(for: .seconds(30)) { mesh in
            Self.converged(mesh, majority, size: 3) && majority.allSatisfy { Self.quorum(mesh, $0) }
        }
        #expect(committed, "the majority did not remove the minority")
        let removalTime = mesh.now - start
        #expect(removalTime < .seconds(10), "removal took \(removalTime)")
        let lostQuorum = mesh.run(for: .seconds(10)) { mesh in minority.allSatisfy { !Self.quorum(mesh, $0) } }
        #expect(lostQuorum)
        print("seed \(seed): minority removed after \(removalTime) of virtual time (fast preset)")
        mesh.run(for: .seconds(20))
        for index in minority {
            #expect(Self.view(mesh, index) == before, "the minority changed its view")
            #expect(!Self.quorum(mesh, index))
        }
        #expect(!mesh.views.contains { minority.contains($0.observer) && $0.view.epoch > before.epoch })

        mesh.dropRule = nil
        let healStart = mesh.now
        let healed = mesh.run(for: .seconds(60)) { mesh in Self.converged(mesh, Array(0..<5), size: 5) && (0..<5).allSatisfy { Self.quorum(mesh, $0) } }
        #expect(healed, "views did not reconcile after healing")
        print("seed \(seed): one five-member view again \(mesh.now - healStart) after healing; epoch \(Self.view(mesh, 0)!.epoch)")
        #expect(mesh.now - healStart < .seconds(30))
        let settled = Self.view(mesh, 0)!.epoch
        mesh.run(for: .seconds(30))
        #expect(Self.view(mesh, 0)!.epoch == settled, "the view kept changing after healing")
        Self.checkOneViewPerEpoch(mesh)
    }

    @Test func twoTwoOneSplitLeavesNobodyWithQuorum() {
        var mesh = Self.formed(seed: 5)
        let side: [Int: Int] = [0: 0, 1: 0, 2: 1, 3: 1, 4: 2]
        let epoch = Self.view(mesh, 0)!.epoch
        mesh.dropRule = { from, to, _ in side[from] != side[to] }
        mesh.run(for: .seconds(40))
        for index in 0..<5 {
            #expect(!Self.quorum(mesh, index), "node \(index) claims quorum")
            #expect(Self.view(mesh, index)!.epoch == epoch)
        }
        Self.checkOneViewPerEpoch(mesh)
    }

    @Test func linkFlappingBetweenTwoNodesDoesNotChangeTheView() {
        var mesh = Self.formed(seed: 6)
        let epoch = Self.view(mesh, 0)!.epoch
        for flip in 0..<20 {
            mesh.dropRule = flip % 2 == 0 ? { from, to, _ in Set([from, to]) == [0, 1] } : nil
            mesh.run(for: .seconds(3))
        }
        mesh.dropRule = nil
        mesh.run(for: .seconds(10))
        for index in 0..<5 {
            #expect(Self.view(mesh, index)!.epoch == epoch)
            #expect(Self.quorum(mesh, index))
        }
    }

    @Test func crashedMemberIsRemovedEvenWhenAVoterCrashesMidProposal() {
        var mesh = Self.formed(seed: 7)
        mesh.crash(4)
        // Let the removal start, then crash one of the voters before the commit is known everywhere.
        mesh.run(for: .seconds(2))
        mesh.crash(3)
        let ok = mesh.run(for: .seconds(40)) { Self.converged($0, [0, 1, 2], size: 3) }
        #expect(ok, "the three survivors did not remove the two crashed members")
        #expect([0, 1, 2].allSatisfy { Self.quorum(mesh, $0) })
        Self.checkOneViewPerEpoch(mesh)
    }

    @Test func votesLostToHeavyLossStillCommitThroughRetransmissionAndPushPull() {
        var mesh = Self.formed(seed: 8)
        mesh.lossRate = 0.3
        mesh.crash(4)
        let ok = mesh.run(for: .seconds(60)) { Self.converged($0, [0, 1, 2, 3], size: 4) }
        #expect(ok)
        Self.checkOneViewPerEpoch(mesh)
    }

    @Test func restartedMemberKeepsItsViewAndIsStillAMember() {
        var mesh = Self.formed(seed: 9)
        mesh.crash(2)
        mesh.run(for: .milliseconds(300))
        mesh.restartFromSnapshot(2)
        #expect(Self.view(mesh, 2)?.members.count == 5)
        let ok = mesh.run(for: .seconds(20)) { mesh in Self.converged(mesh, Array(0..<5), size: 5) && Self.quorum(mesh, 2) }
        #expect(ok)
        Self.checkOneViewPerEpoch(mesh)
    }
}
