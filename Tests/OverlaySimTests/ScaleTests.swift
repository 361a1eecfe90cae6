import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// A small scale point: the machinery of `overlay-sim scale` and the design's bounds.
@Suite struct ScaleTests {
    @Test(arguments: [0, 0.1] as [Double])
    func smallCloudDisseminatesWithinTwoLog2NAndDetectsCrashes(loss: Double) throws {
        var settings = ScaleExperiment.Settings()
        settings.warmUp = .seconds(10)
        settings.quietWindow = .seconds(30)
        settings.joiners = 2
        settings.crashes = 1
        let (cloud, joined) = ScaleExperiment.bootstrap(nodes: 24, seed: 6, settings: settings)
        try #require(joined != nil, "24 nodes join on a clean network")
        let point = ScaleExperiment.measure(base: cloud, nodes: 24, lossRate: loss, settings: settings)
        #expect(point.disseminationRounds.count == 2)
        for rounds in point.disseminationRounds { #expect(rounds <= point.disseminationBound) }
        #expect(point.bytesPerNodePerSecond > 0)
        let detected = try #require(point.detectionSeconds.first ?? nil, "the crash is detected everywhere")
        let bound = MembershipSettings.radio.failureDetectionBound(memberCount: 24).seconds
        #expect(detected <= bound)
    }

    @Test func forkingLeavesTheBootstrapUntouched() {
        var settings = ScaleExperiment.Settings()
        settings.warmUp = .seconds(5)
        settings.quietWindow = .seconds(5)
        settings.joiners = 1
        settings.crashes = 1
        let (cloud, _) = ScaleExperiment.bootstrap(nodes: 12, seed: 2, settings: settings)
        let before = cloud.trace
        let first = ScaleExperiment.measure(base: cloud, nodes: 12, lossRate: 0.05, settings: settings)
        #expect(cloud.trace == before)
        let second = ScaleExperiment.measure(base: cloud, nodes: 12, lossRate: 0.05, settings: settings)
        #expect(first.bytesPerNodePerSecond == second.bytesPerNodePerSecond)
        #expect(first.disseminationRounds == second.disseminationRounds)
    }

    /// Neighbourhood clouds simulated side by side never learn about each other.
    @Test func federatedCloudsStayApart() {
        var configuration = CloudConfiguration(nodeCount: 24)
        configuration.cloudSize = 8
        let cloud = SimulatedCloud(configuration: configuration, seed: 4)
        cloud.startAll()
        cloud.run(until: .seconds(40))
        for index in 0..<24 {
            let members = cloud.nodes[index].agent!.membership.members
            #expect(members.count == 7, "node \(index) knows exactly the rest of its cloud")
            for other in cloud.nodes(inCloud: cloud.cloud(of: index)) where other != index {
                #expect(members[cloud.id(other)]?.state == .alive)
            }
        }
        #expect(cloud.hops(from: 0, to: 9) == 255)
    }

    @Test func aSmallFederationMeasures() {
        var settings = ScaleExperiment.Settings()
        settings.warmUp = .seconds(5)
        settings.quietWindow = .seconds(10)
        settings.joiners = 2
        settings.crashes = 2
        let point = ScaleExperiment.federation(clouds: 3, size: 10, lossRate: 0, seed: 3, settings: settings)
        #expect(point.bootstrap != nil)
        #expect(point.agents == 30)
        #expect(point.disseminationRounds.count == 2)
        #expect(point.disseminationRounds.allSatisfy { $0 <= 2 * log2(10) })
        #expect(point.detectionSeconds.allSatisfy { $0 != nil })
    }
}
