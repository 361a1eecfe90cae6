import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// The event queue, the node clocks and the generated meshes.
@Suite struct EngineTests {
    @Test func eventsComeOutByTimeThenInsertionOrder() {
        var queue = EventQueue<Int>()
        let times: [Int64] = [5, 1, 5, 3, 1, 9, 5]
        for (index, time) in times.enumerated() { queue.push(index, at: time) }
        var out: [(Int64, Int)] = []
        while let entry = queue.pop() { out.append((entry.time, entry.payload)) }
        #expect(out.map(\.0) == [1, 1, 3, 5, 5, 5, 9])
        #expect(out.map(\.1) == [1, 4, 3, 0, 2, 6, 5])
    }

    @Test(arguments: [(0, 0), (1_500_000, 250), (-2_000_000, -400), (999, 1000)] as [(Int64, Int64)])
    func clockConversionFindsTheFirstMicrosecondReachingAnInstant(offset: Int64, ppm: Int64) {
        let clock = NodeClock(offsetMicroseconds: offset, ratePPM: ppm)
        for seconds in [0.0, 0.0004, 1, 17.25, 3600.5] {
            let time = SimTime.seconds(seconds)
            let reading = clock.instant(at: time)
            let target = reading + .milliseconds(37)
            let reached = clock.virtualTime(reaching: target, notBefore: .zero)
            #expect(clock.instant(at: reached) >= target)
            #expect(clock.instant(at: SimTime(microseconds: reached.microseconds - 1)) < target)
        }
    }

    @Test func fastClocksRunAhead() {
        let fast = NodeClock(ratePPM: 1000)
        let hour = SimTime.seconds(3600)
        #expect(fast.instant(at: hour).milliseconds - NodeClock().instant(at: hour).milliseconds == 3600)
    }

    @Test(arguments: [1, 7, 60, 500] as [Int])
    func meshesAreConnectedAndHopCountsSymmetric(count: Int) {
        let mesh = MeshTopology(count: count, degree: 6, seed: 3)
        for target in 0..<count { #expect(mesh.hops(from: 0, to: target) < 255) }
        for a in stride(from: 0, to: count, by: max(1, count / 7)) {
            for b in stride(from: 0, to: count, by: max(1, count / 5)) {
                #expect(mesh.hops(from: a, to: b) == mesh.hops(from: b, to: a))
            }
        }
        #expect(mesh.hops(from: count - 1, to: count - 1) == 0)
    }

    @Test func edgeNodesAreDistinctAndFarFromTheCentre() {
        let mesh = MeshTopology(count: 300, degree: 8, seed: 11)
        let edge = mesh.edgeNodes(12)
        #expect(edge.count == 12)
        #expect(Set(edge).count == 12)
        let centre = mesh.side / 2
        func distance(_ node: Int) -> Double {
            ((mesh.positions[node].x - centre) * (mesh.positions[node].x - centre)
                + (mesh.positions[node].y - centre) * (mesh.positions[node].y - centre)).squareRoot()
        }
        let median = (0..<300).map(distance).sorted()[150]
        #expect(edge.allSatisfy { distance($0) > median })
    }

    @Test func theSameSeedBuildsTheSameMesh() {
        let first = MeshTopology(count: 200, seed: 8)
        let second = MeshTopology(count: 200, seed: 8)
        #expect(first.neighbours == second.neighbours)
        #expect(MeshTopology(count: 200, seed: 9).neighbours != first.neighbours)
    }
}
