import Foundation
import ArgumentParser
import OverlaySim
import OverlayCore

/// `overlay-sim scale`: membership figures as the cloud grows and the radio gets worse.
struct ScaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Measure dissemination, bytes, failure detection and false failures across cloud sizes and loss rates.",
        discussion: """
            For each size, a cloud of real agents joins on a clean network (the bootstrap); then a \
            copy of it runs at each loss rate: 30 s warm-up, one push-pull interval (at least \
            60 s) counting bytes, three new nodes joining (their ALIVE claims are the \
            disseminated items) and two crashes. Sizes above --large use only the --large-loss \
            rates. --federation runs many neighbourhood clouds side by side (guifi.net's shape).
            """)

    @Option(help: "The seed.")
    var seed: UInt64 = 1

    @Option(help: "Cloud sizes, comma-separated.")
    var nodes: String = "10,30,100,300"

    @Option(help: "Loss rates in percent, comma-separated.")
    var loss: String = "0,5,10,20"

    @Option(help: "Sizes above this use only --large-loss.")
    var large: Int = 100

    @Option(help: "Loss rates in percent for large clouds.")
    var largeLoss: String = "0,10"

    @Option(help: "Also run a guifi.net-sized federation, as CLOUDSxSIZE (for example 100x100: 10,000 agents in 100 neighbourhood clouds of 100).")
    var federation: String?

    @Option(help: "Loss rates in percent for the federation run (each rate bootstraps anew).")
    var federationLoss: String = "0"

    @Flag(help: "Skip the single-cloud sweep (run only --federation).")
    var onlyFederation = false

    @Flag(help: "Run the quorum view on top of SWIM (the daemon's default); off by default to measure membership alone.")
    var quorumView = false

    @Option(help: "The agents' membership preset: radio (the daemon's default), lan or fast (five times radio's timings, as the mesh lab's default).")
    var preset: String = "radio"

    @Option(help: "Where to write scale.csv and the plots.")
    var out: String = "./sim-results"

    func run() throws {
        let started = ContinuousClock.now
        let sizes = try Self.list(nodes, name: "--nodes").map { Int($0) }
        let losses = try Self.list(loss, name: "--loss").map { $0 / 100 }
        let largeLosses = try Self.list(largeLoss, name: "--large-loss").map { $0 / 100 }
        var points: [ScalePoint] = []
        var federationShape: (Int, Int)?
        if let federation {
            let parts = federation.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] >= 1, parts[1] >= 2 else {
                throw ValidationErrorMessage("--federation takes CLOUDSxSIZE, for example 100x100")
            }
            federationShape = (parts[0], parts[1])
        }
        guard let membership = MembershipSettings.presets[preset] else {
            throw ValidationErrorMessage("--preset takes one of \(MembershipSettings.presets.keys.sorted().joined(separator: ", ")), not '\(preset)'")
        }
        var timings = TextTable(header: ["nodes", "bootstrap (virtual)", "bootstrap wall", "measure wall per loss rate"])
        for size in onlyFederation ? [] : sizes {
            guard size >= 2 else { throw ValidationErrorMessage("a cloud needs at least 2 nodes (got \(size))") }
            let bootStart = ContinuousClock.now
            var settings = ScaleExperiment.Settings()
            settings.quorumView = quorumView
            settings.membership = membership
            if quorumView { settings.warmUp = .seconds(180) }
            let (cloud, joinTime) = ScaleExperiment.bootstrap(nodes: size, seed: seed, settings: settings)
            let bootWall = ContinuousClock.now - bootStart
            guard let joinTime else {
                throw ValidationErrorMessage("the \(size)-node cloud did not finish joining within the bootstrap limit; try a smaller size")
            }
            var walls: [String] = []
            for rate in size > large ? largeLosses : losses {
                let measureStart = ContinuousClock.now
                points.append(ScaleExperiment.measure(base: cloud, nodes: size, lossRate: rate, settings: settings))
                walls.append("\(Format.fixed(rate * 100, 0))%: \(Format.fixed((ContinuousClock.now - measureStart).seconds, 1)) s")
                Output.progress("scale: \(size) nodes, loss \(Format.fixed(rate * 100, 0))% done")
            }
            timings.append(["\(size)", Format.seconds(joinTime.seconds), Format.fixed(bootWall.seconds, 1) + " s", walls.joined(separator: ", ")])
        }
        if !points.isEmpty {
            let report = ScaleReport(points: points)
            print(report.table().render())
            try Output.write(report.csv().render(), to: out, name: "scale.csv")
            try Output.write(report.plotDissemination(), to: out, name: "scale-dissemination.svg")
            try Output.write(report.plotBytes(), to: out, name: "scale-bytes.svg")
            try Output.write(report.plotDetection(), to: out, name: "scale-detection.svg")
            Output.stderr(timings.render())
        }
        if let (clouds, size) = federationShape {
            var settings = ScaleExperiment.Settings()
            settings.quorumView = quorumView
            if quorumView { settings.warmUp = .seconds(180) }
            var federated: [FederationPoint] = []
            for rate in try Self.list(federationLoss, name: "--federation-loss").map({ $0 / 100 }) {
                let runStart = ContinuousClock.now
                federated.append(ScaleExperiment.federation(clouds: clouds, size: size, lossRate: rate, seed: seed, settings: settings))
                Output.stderr("federation \(clouds)x\(size), loss \(Format.fixed(rate * 100, 0))%: \(Format.fixed((ContinuousClock.now - runStart).seconds, 1)) s")
            }
            let table = ScaleReport.federationTable(federated)
            print(table.render())
            try Output.write(ScaleReport.federationCSV(federated).render(), to: out, name: "scale-federation.csv")
        }
        Output.reportRunTime(since: started)
    }

    static func list(_ text: String, name: String) throws -> [Double] {
        try text.split(separator: ",").map { part in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw ValidationErrorMessage("\(name) takes comma-separated non-negative numbers, not '\(part)'")
            }
            return value
        }
    }
}
