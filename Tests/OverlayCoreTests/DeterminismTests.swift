import Foundation
import Testing
@testable import OverlayCore

/// A run is a function of its seed: the simulator can replay any failing one.
@Suite struct DeterminismTests {
    /// Joins seven nodes over a lossy network, crashes one, restarts it, and lets a member leave.
    static func eventfulRun(seed: UInt64) -> MeshHarness {
        var mesh = MeshHarness(count: 7, seed: seed)
        mesh.lossRate = 0.1
        mesh.startAll()
        mesh.run(for: .seconds(15))
        mesh.crash(3)
        mesh.run(for: .seconds(20))
        mesh.restartFromSnapshot(3)
        mesh.run(for: .seconds(10))
        mesh.leave(5)
        mesh.run(for: .seconds(15))
        return mesh
    }

    static func changeLog(_ mesh: MeshHarness) -> [String] {
        mesh.changes.map { "\($0.time.milliseconds) \($0.observer) \($0.change.id.shortForm) \(String(describing: $0.change.to)) \($0.change.incarnation)" }
    }

    @Test func sameSeedTransmitsTheSameBytes() {
        let first = Self.eventfulRun(seed: 4242)
        let second = Self.eventfulRun(seed: 4242)
        #expect(first.transmissions.count > 1_000)
        #expect(first.transmissions.count == second.transmissions.count)
        #expect(first.digest == second.digest)
        #expect(Self.changeLog(first) == Self.changeLog(second))
        #expect(first.transmissions.contains { $0.dropped }, "the loss was exercised")
    }

    @Test func anotherSeedTransmitsOtherBytes() {
        let first = Self.eventfulRun(seed: 4242)
        let other = Self.eventfulRun(seed: 4243)
        #expect(first.digest != other.digest)
    }
}
