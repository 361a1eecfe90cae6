import Foundation
import OverlayCore
import Testing
@testable import OverlaySim

/// The churn soak's plan and a short soak.
@Suite struct SoakTests {
    /// The plan alternates crash and restart for every node (never two crashes in a row), keeps
    /// events in time order, and gives the uptime asked for, within sampling error.
    @Test func theScheduleAlternatesAndHitsTheUptime() {
        var settings = SoakSettings()
        settings.duration = .seconds(60 * 86_400)
        settings.powerCuts = 0
        let schedule = SoakSchedule(settings: settings, seed: 7)
        #expect(zip(schedule.events, schedule.events.dropFirst()).allSatisfy { $0.time <= $1.time })
        for node in 0..<settings.nodeCount {
            let own = schedule.events.filter { $0.node == node }
            #expect(zip(own, own.dropFirst()).allSatisfy { $0.crash != $1.crash }, "node \(node) alternates")
            #expect(own.first?.crash != false, "node \(node) starts up, so its first event is a crash")
        }
        #expect(abs(schedule.plannedUptime - 0.9) < 0.03, "planned uptime \(schedule.plannedUptime)")
    }

    /// A power cut stops every node, and every node boots again within the boot spread after it.
    @Test func aPowerCutStopsEveryNode() {
        var settings = SoakSettings()
        settings.duration = .seconds(86_400)
        settings.powerCuts = 1
        let schedule = SoakSchedule(settings: settings, seed: 3)
        let cut = try! #require(schedule.powerCuts.first)
        for node in 0..<settings.nodeCount {
            let own = schedule.events.filter { $0.node == node }
            let downAtCut = own.last { $0.time <= cut.start }?.crash ?? false
            #expect(downAtCut, "node \(node) is down when the power goes")
            let after = own.first { $0.time > cut.start }
            #expect(after.map { !$0.crash && $0.time >= cut.end } ?? false, "node \(node) comes back only after the power")
        }
    }

    /// A short soak (two virtual hours, one power cut) runs with every invariant and measures
    /// removals and readmissions within the target.
    @Test func aShortSoakMeetsItsTargets() {
        var settings = SoakSettings()
        settings.nodeCount = 12
        settings.duration = .seconds(2 * 3600)
        settings.powerCuts = 1
        settings.longestPowerCut = .seconds(900)
        var run = SoakRun(settings: settings, seed: 2)
        let outcome = run.run()
        #expect(outcome.violation == nil, "\(outcome.violation.map(String.init(describing:)) ?? "")")
        #expect(outcome.commits > 0)
        #expect(!outcome.removals.isEmpty && outcome.removalsMeetTarget, "removals \(outcome.removals)")
        #expect(outcome.readmissionsMeetTarget, "readmissions \(outcome.readmissions)")
        #expect(outcome.majorityTime > .zero)
    }
}
