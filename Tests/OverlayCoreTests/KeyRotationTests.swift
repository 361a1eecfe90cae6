import Foundation
import OverlayWire
import Testing
@testable import OverlayCore

/// Key rotation without a split (issue 12 item 6): a node rolls its own key with an overlap,
/// a node that was away during the rotation rejoins while the overlap lasts (Serf issue 579 is
/// the failure avoided), and a key is revoked cloud-wide. Deterministic: the in-memory
/// ``MeshHarness`` on virtual time.
@Suite struct KeyRotationTests {
    /// The successor key test node `index` rolls to (distinct from every node's key).
    static func successor(of index: Int) -> FakeSigner { FakeSigner(nodeID: TestKeys.id(100 + index)) }

    /// Every key of the roll's overlap: long enough for the outage below.
    static let overlap: Duration = .seconds(3_600)
    /// The time a roll is left to spread before the node switches key (as the daemon does).
    static let handover: Duration = .seconds(5)

    /// Starts a cloud of `count` and runs until every node sees every other alive.
    static func convergedCloud(count: Int, seed: UInt64, operators: Set<Int> = []) -> MeshHarness {
        var mesh = MeshHarness(count: count, seed: seed, operators: operators)
        mesh.startAll()
        let converged = mesh.run(for: .seconds(60)) { $0.allRunningSeeEachOtherAlive }
        #expect(converged, "the cloud converges before the test starts")
        return mesh
    }

    /// How `observer` sees the member with key `id`.
    static func state(of id: NodeID, seenBy observer: Int, in mesh: MeshHarness) -> MemberState? {
        mesh.nodes[observer].agent.membership.members[id]?.state
    }

    @Test func aRolledKeyIsAdmittedCloudWideAndTheOldKeyLeaves() throws {
        var mesh = Self.convergedCloud(count: 4, seed: 12)
        let old = TestKeys.id(1), new = Self.successor(of: 1).nodeID
        try mesh.rollKey(1, to: Self.successor(of: 1), overlap: Self.overlap, handover: Self.handover)
        let settled = mesh.run(for: .seconds(60)) { mesh in
            [0, 2, 3].allSatisfy { Self.state(of: new, seenBy: $0, in: mesh) == .alive && Self.state(of: old, seenBy: $0, in: mesh) == .left }
        }
        #expect(settled, "every member hears the node under its new key, and its old key left")
        mesh.run(for: .seconds(10))
        for observer in [0, 2, 3] {
            let trust = mesh.nodes[observer].agent.keyTrust
            #expect(trust.state(of: new, at: mesh.now) == .active)
            #expect(trust.state(of: old, at: mesh.now) == .overlap)
            #expect(trust.state(of: old, at: mesh.now + Self.overlap) == .retired, "the old key retires when the overlap ends")
            #expect(mesh.nodes[observer].persisted?.keyStatements?.count == 1, "the roll is persisted with the snapshot")
        }
        let seen = mesh.nodes[1].agent.membership.members.values.map { "\($0.id.shortForm)=\($0.state)" }.sorted()
        #expect(mesh.nodes[1].agent.membership.members.values.filter { $0.state == .alive }.count == 3, "the node under its new key sees the others: \(seen), id \(mesh.nodes[1].agent.localID.shortForm)")
    }

    @Test func aNodeOfflineDuringTheRotationRejoinsWhileTheOverlapLasts() throws {
        var mesh = Self.convergedCloud(count: 5, seed: 579)
        mesh.crash(4)
        #expect(mesh.nodes[4].persisted != nil)
        try mesh.rollKey(1, to: Self.successor(of: 1), overlap: Self.overlap, handover: Self.handover)
        // Long after the roll's gossip has died down: node 4 can learn it only from a sync.
        mesh.run(for: .seconds(300))
        #expect(mesh.nodes[0].agent.queuedItems < 5, "the roll is no longer being gossiped")
        mesh.restartFromSnapshot(4)
        let new = Self.successor(of: 1).nodeID
        let rejoined = mesh.run(for: .seconds(60)) { mesh in
            Self.state(of: new, seenBy: 4, in: mesh) == .alive
                && [0, 2, 3].allSatisfy { Self.state(of: TestKeys.id(4), seenBy: $0, in: mesh) == .alive }
                && Self.state(of: TestKeys.id(4), seenBy: 1, in: mesh) == .alive
        }
        #expect(rejoined, "the returning node admits the new key and everyone hears it again")
        #expect(mesh.nodes[4].agent.keyTrust.state(of: new, at: mesh.now) == .active)
        #expect(Self.state(of: TestKeys.id(1), seenBy: 4, in: mesh) != .alive, "it does not take the old key for a live member")
    }

    /// Serf issue 579: every member rotated while one was away, so none speaks a key the
    /// returning node knows. The successors' syncs carry their rolls, which introduce them.
    @Test func aNodeOfflineWhileEveryOtherMemberRolledRejoins() throws {
        var mesh = Self.convergedCloud(count: 4, seed: 5_790)
        mesh.crash(3)
        for index in 0..<3 {
            try mesh.rollKey(index, to: Self.successor(of: index), overlap: Self.overlap, handover: Self.handover)
            mesh.run(for: .seconds(30))
        }
        mesh.run(for: .seconds(300))
        mesh.restartFromSnapshot(3)
        let successors = (0..<3).map { Self.successor(of: $0).nodeID }
        let rejoined = mesh.run(for: .seconds(60)) { mesh in
            successors.allSatisfy { Self.state(of: $0, seenBy: 3, in: mesh) == .alive }
                && (0..<3).allSatisfy { Self.state(of: TestKeys.id(3), seenBy: $0, in: mesh) == .alive }
        }
        #expect(rejoined, "the returning node admits every successor from its roll and is heard again")
        #expect(successors.allSatisfy { mesh.nodes[3].agent.keyTrust.admits($0, at: mesh.now) })
    }

    /// After the overlap the old key is refused by every member that holds the roll; a node
    /// that never heard of the roll still admits the old key (its keyring lists it), so the roll
    /// signed by it is no more than it already trusts, and it still rejoins.
    @Test func aNodeBackAfterTheOverlapStillRejoinsAndThenRefusesTheOldKey() throws {
        var mesh = Self.convergedCloud(count: 3, seed: 7)
        mesh.crash(2)
        try mesh.rollKey(0, to: Self.successor(of: 0), overlap: .seconds(60), handover: Self.handover)
        try mesh.rollKey(1, to: Self.successor(of: 1), overlap: .seconds(60), handover: Self.handover)
        mesh.run(for: .seconds(120))
        #expect(mesh.nodes[0].agent.keyTrust.state(of: TestKeys.id(1), at: mesh.now) == .retired)
        mesh.restartFromSnapshot(2)
        #expect(mesh.nodes[2].agent.keyTrust.admits(TestKeys.id(0), at: mesh.now), "before it hears of the roll")
        let rejoined = mesh.run(for: .seconds(60)) { mesh in
            (0..<2).allSatisfy { Self.state(of: Self.successor(of: $0).nodeID, seenBy: 2, in: mesh) == .alive }
        }
        #expect(rejoined)
        #expect(mesh.nodes[2].agent.keyTrust.state(of: TestKeys.id(0), at: mesh.now) == .retired, "and after it, the old key is refused")
    }

    @Test func anOperatorKeyRevokesAKeyCloudWide() throws {
        var mesh = Self.convergedCloud(count: 5, seed: 21, operators: [0])
        let revoked = TestKeys.id(3)
        try mesh.act(0) { agent, now in try agent.revokeKey(revoked, now: now) }
        let removed = mesh.run(for: .seconds(30)) { mesh in
            [0, 1, 2, 4].allSatisfy {
                let state = Self.state(of: revoked, seenBy: $0, in: mesh)
                return state == .failed || state == nil
            }
        }
        #expect(removed, "every member marks the revoked member failed")
        let refusedBefore = mesh.rejections.count { $0.reason == .unknownSender && $0.node != 3 }
        mesh.run(for: .seconds(10))
        let refusedAfter = mesh.rejections.count { $0.reason == .unknownSender && $0.node != 3 }
        #expect(refusedAfter > refusedBefore, "the revoked key's datagrams are refused everywhere")
        for observer in [0, 1, 2, 4] {
            #expect(mesh.nodes[observer].agent.keyTrust.state(of: revoked, at: mesh.now) == .revoked)
        }
        #expect([0, 1, 2, 4].allSatisfy { observer in [0, 1, 2, 4].filter { $0 != observer }.allSatisfy { mesh.state(of: $0, seenBy: observer) == .alive } },
                "the others are untouched")
    }

    @Test func aMemberMayRevokeOnlyItsOwnKey() throws {
        var mesh = Self.convergedCloud(count: 3, seed: 22)
        #expect(throws: Agent.KeyStatementRefused.self) { try mesh.act(1) { agent, now in try agent.revokeKey(TestKeys.id(2), now: now) } }
        try mesh.act(2) { agent, now in try agent.revokeKey(TestKeys.id(2), now: now) }
        mesh.run(for: .seconds(10))
        #expect(mesh.nodes[0].agent.keyTrust.isRevoked(TestKeys.id(2)), "a holder may revoke its own key")
        #expect(mesh.nodes[1].agent.keyTrust.isRevoked(TestKeys.id(2)))
    }
}

/// The rules of ``KeyTrust``: who may roll and revoke, chains, equivocation, bounds.
@Suite struct KeyTrustTests {
    static let t0 = Instant(milliseconds: 1_700_000_000_000)
    static let a = TestKeys.signer(0), b = TestKeys.signer(1), op = TestKeys.signer(2)
    static let a2 = FakeSigner(nodeID: TestKeys.id(50)), a3 = FakeSigner(nodeID: TestKeys.id(51)), x = FakeSigner(nodeID: TestKeys.id(60))

    static var keyring: Keyring {
        Keyring([
            Keyring.Entry(id: a.nodeID, label: "a", validUntil: t0 + .seconds(86_400 * 30)),
            Keyring.Entry(id: b.nodeID, label: "b"),
            Keyring.Entry(id: op.nodeID, label: "op", mayRevoke: true),
        ])
    }

    static func roll(_ from: FakeSigner, to: FakeSigner, at: Instant = t0, overlap: Duration = .seconds(600)) -> SignedItem {
        KeyRoll(predecessor: from.nodeID, successor: to.nodeID, validFrom: at, overlapUntil: at + overlap).signed(by: from, now: at)
    }

    @Test func aRollAdmitsTheSuccessorAndRetiresThePredecessorAfterTheOverlap() {
        var trust = KeyTrust(keyring: Self.keyring)
        #expect(!trust.admits(Self.a2.nodeID, at: Self.t0))
        #expect(trust.record(Self.roll(Self.a, to: Self.a2)) == .recorded)
        #expect(trust.record(Self.roll(Self.a, to: Self.a2)) == .known)
        #expect(trust.admits(Self.a2.nodeID, at: Self.t0))
        #expect(trust.state(of: Self.a.nodeID, at: Self.t0) == .overlap)
        #expect(!trust.admits(Self.a.nodeID, at: Self.t0 + .seconds(600)))
        #expect(trust.admits(Self.a2.nodeID, at: Self.t0 + .seconds(600)))
        #expect(!trust.admits(Self.a2.nodeID, at: Self.t0 + .seconds(86_400 * 30)), "no longer than the keyring entry it descends from")
        #expect(trust.validity(of: Self.a2.nodeID).until == Self.t0 + .seconds(86_400 * 30))
    }

    @Test func aRollCannotTakeOverAnotherKeyNorCanAnOutsiderRoll() {
        var trust = KeyTrust(keyring: Self.keyring)
        #expect(trust.record(Self.roll(Self.a, to: Self.b)) == .recorded, "a roll to a listed key is recorded")
        #expect(trust.record(KeyRevocation.signed(revoking: Self.a.nodeID, by: Self.a, now: Self.t0)) == .recorded)
        #expect(trust.admits(Self.b.nodeID, at: Self.t0), "but the listed key stands on its own, even when its predecessor is revoked")
        #expect(trust.record(Self.roll(Self.b, to: Self.a)) != .recorded, "and a chain never loops back to a key that rolled")
        #expect(trust.record(Self.roll(Self.x, to: Self.a3)) != .recorded, "an outsider cannot roll into the cloud")
        #expect(!trust.admits(Self.a3.nodeID, at: Self.t0))
    }

    @Test func twoDifferentRollsFromOneKeyRevokeItAndItsSuccessorsInEitherOrder() {
        let first = Self.roll(Self.a, to: Self.a2), second = Self.roll(Self.a, to: Self.a3)
        for order in [[first, second], [second, first]] {
            var trust = KeyTrust(keyring: Self.keyring)
            for item in order { #expect(trust.record(item) == .recorded) }
            #expect(!trust.admits(Self.a.nodeID, at: Self.t0))
            #expect(!trust.admits(Self.a2.nodeID, at: Self.t0))
            #expect(!trust.admits(Self.a3.nodeID, at: Self.t0))
            #expect(trust.statements.count == 2, "both travel on, so every member learns of the equivocation")
        }
    }

    @Test func revokingAKeyRevokesItsSuccessorsUnlessTheKeyringListsThem() {
        var trust = KeyTrust(keyring: Self.keyring)
        #expect(trust.record(Self.roll(Self.a, to: Self.a2)) == .recorded)
        #expect(trust.record(Self.roll(Self.a2, to: Self.a3, at: Self.t0 + .seconds(1))) == .recorded)
        #expect(trust.record(KeyRevocation.signed(revoking: Self.a.nodeID, by: Self.b, now: Self.t0)) != .recorded, "b is no operator")
        #expect(trust.admits(Self.a3.nodeID, at: Self.t0 + .seconds(2)))
        #expect(trust.record(KeyRevocation.signed(revoking: Self.a.nodeID, by: Self.op, now: Self.t0)) == .recorded)
        #expect(trust.state(of: Self.a3.nodeID, at: Self.t0 + .seconds(2)) == .revoked)
        var listed = Self.keyring
        listed.insert(Keyring.Entry(id: Self.a3.nodeID, label: "a-new"))
        trust.keyring = listed
        #expect(trust.admits(Self.a3.nodeID, at: Self.t0 + .seconds(2)), "a key the operator lists again stands on its own")
    }

    @Test func removingTheRootFromTheKeyringRemovesItsSuccessors() {
        var trust = KeyTrust(keyring: Self.keyring)
        #expect(trust.record(Self.roll(Self.a, to: Self.a2)) == .recorded)
        trust.keyring = Keyring(Self.keyring.entries.values.filter { $0.id != Self.a.nodeID })
        #expect(!trust.admits(Self.a2.nodeID, at: Self.t0))
    }

    @Test func aChainOfRollsIsBounded() {
        var trust = KeyTrust(keyring: Self.keyring)
        var current = Self.b
        for step in 0..<KeyTrust.maxRollsPerRoot {
            let next = FakeSigner(nodeID: TestKeys.id(70 + step))
            #expect(trust.record(Self.roll(current, to: next, at: Self.t0 + .seconds(Int64(step)))) == .recorded)
            current = next
        }
        let beyond = FakeSigner(nodeID: TestKeys.id(70 + KeyTrust.maxRollsPerRoot))
        #expect(trust.record(Self.roll(current, to: beyond, at: Self.t0 + .seconds(100))) != .recorded)
        #expect(trust.admits(current.nodeID, at: Self.t0 + .seconds(100)))
    }

    @Test func restoringStatementsSkipsThoseThatDoNotVerify() throws {
        var wire = Self.roll(Self.a, to: Self.a2).wire
        wire.signature = Data(repeating: 7, count: 64)
        let forged = try #require(SignedItem(wire: wire))
        let trust = KeyTrust(keyring: Self.keyring, restoring: [forged, Self.roll(Self.b, to: Self.a3)], verifier: FakeVerifier())
        #expect(!trust.admits(Self.a2.nodeID, at: Self.t0))
        #expect(trust.admits(Self.a3.nodeID, at: Self.t0))
    }

    @Test func keyringLinesRoundTrip() throws {
        let entry = Keyring.Entry(
            id: Self.a.nodeID, label: "can-roca", validFrom: Instant(milliseconds: 1_709_251_200_000),
            validUntil: Instant(milliseconds: 1_711_929_600_000), mayRevoke: true)
        #expect(entry.line == "\(Self.a.nodeID.hex) can-roca from=2024-03-01 until=2024-03-31 role=operator")
        #expect(try Keyring.parse(entry.line, source: "k").entries[Self.a.nodeID] == entry)
        #expect(throws: KeyringError.self) { try Keyring.parse("\(Self.a.nodeID.hex) role=admin", source: "k") }
    }
}
