import ArgumentParser
import Foundation
import OverlaySim

/// `overlay-sim soak`: one cloud under months-like churn for a virtual week.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run one cloud for a virtual week of node outages and power cuts, and measure the quorum view.",
        discussion: """
            Every node is up about --uptime of the time and goes down on its own for a minute to \
            a day (log-uniform); --power-cuts times the whole cloud stops at once and boots again \
            over a few minutes. The chaos runs' safety invariants are checked after every step. \
            Reported against the targets: the fraction of time a majority of the view runs and \
            reports quorum while a majority runs, crash-to-removal and restart-to-readmission \
            times, false removals, and view size against running nodes (soak.csv, soak-view.svg). \
            Exits with status 1 if an invariant broke or a target was missed.
            """)

    @Option(help: "The seed.")
    var seed: UInt64 = 1

    @Option(help: "Nodes in the cloud.")
    var nodes: Int = 30

    @Option(help: "Virtual days to run (warm-up of 10 minutes included).")
    var days: Double = 7

    @Option(help: "Datagram loss in percent.")
    var loss: Double = 5

    @Option(help: "The fraction of time each node is up outside power cuts.")
    var uptime: Double = 0.9

    @Option(help: "Whole-cloud power cuts in the run.")
    var powerCuts: Int = 3

    @Option(help: "Where to write soak.csv and soak-view.svg.")
    var out: String = "./sim-results"

    func run() throws {
        guard nodes >= 3 else { throw ValidationErrorMessage("a soak needs at least 3 nodes (got \(nodes))") }
        guard days > 0, days <= 366 else { throw ValidationErrorMessage("--days takes a number of days above 0 and at most 366 (got \(days))") }
        guard (0..<100).contains(loss) else { throw ValidationErrorMessage("--loss takes a percentage from 0 to below 100 (got \(loss))") }
        guard uptime > 0, uptime < 1 else { throw ValidationErrorMessage("--uptime takes a fraction above 0 and below 1 (got \(uptime))") }
        guard powerCuts >= 0 else { throw ValidationErrorMessage("--power-cuts takes a count of 0 or more (got \(powerCuts))") }
        let started = ContinuousClock.now
        var settings = SoakSettings()
        settings.nodeCount = nodes
        settings.lossRate = loss / 100
        settings.duration = .milliseconds(Int64(days * 86_400_000))
        settings.uptime = uptime
        settings.powerCuts = powerCuts
        guard settings.duration > settings.warmUp else { throw ValidationErrorMessage("--days must be longer than the 10-minute warm-up") }
        var run = SoakRun(settings: settings, seed: seed)
        let outcome = run.run { time in
            Output.progress("soak: \(Format.fixed(time.seconds / 86_400, 2)) virtual days, \(Format.fixed((ContinuousClock.now - started).seconds, 0)) s wall")
        }
        let report = SoakReport(outcome: outcome)
        print(report.plan().render())
        print(report.figures().render())
        for removal in outcome.falseRemovals { print("false removal: \(removal)") }
        if !outcome.gaps.isEmpty {
            print("longest stretches without quorum while a majority ran: "
                + outcome.gaps.prefix(5).map { "\(Format.fixed($0.length.seconds, 1)) s at \($0.start)" }.joined(separator: ", "))
        }
        try Output.write(report.csv().render(), to: out, name: "soak.csv")
        try Output.write(report.plot(), to: out, name: "soak-view.svg")
        Output.reportRunTime(since: started)
        if !outcome.metTargets {
            let options = (nodes == 30 ? "" : " --nodes \(nodes)") + (days == 7 ? "" : " --days \(days)") + (loss == 5 ? "" : " --loss \(loss)")
                + (uptime == 0.9 ? "" : " --uptime \(uptime)") + (powerCuts == 3 ? "" : " --power-cuts \(powerCuts)")
            print("replay: swift run -c release overlay-sim soak --seed \(seed)\(options)")
            print("at:     \(SourceRevision.describe())")
            throw ExitCode(1)
        }
    }
}
