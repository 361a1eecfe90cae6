import ArgumentParser
import Foundation
import OverlayCore

/// `overlay-bench`: the footprint benchmark suite (issue 13, Docs/footprint.md).
///
/// Prints every figure as it is measured, then a table beside the previous run's figures, and
/// saves this run's for the next. It asserts nothing about speed: the figures are for people.
/// It fails only when it cannot measure (a daemon that does not start) or when the receive path
/// verified a signature twice, which is a bug whatever the machine.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay-bench",
        abstract: "Measure overlayd's footprint: receive path vs raw libsodium, codec, API and CLI at 1,000 members, RSS, bytes and CPU per node.",
        discussion: "Build with 'swift build -c release' first; see Docs/footprint.md for every figure and how it is measured.")

    @Option(help: "Nodes of the in-process virtual cloud (bytes and CPU per node, and the receive path's traffic). Default 100, the issue's size.")
    var cloud = 100

    @Option(help: "Virtual seconds of steady state measured in that cloud, once the joins' items are disseminated. Default 60.")
    var steady = 60

    @Option(help: "At most this many virtual seconds waiting for the joins' items to be disseminated before the steady window. Default 600.")
    var settleLimit = 600

    @Option(help: "Members the real daemon holds for the API, CLI and RSS figures. Default 1,000, the issue's size.")
    var members = 1000

    @Option(help: "Calls per CLI and API figure; the median is printed. Default 20.")
    var calls = 20

    @Option(help: "Timed replays of the receive path and of raw libsodium; the fastest counts (other processes slow a run down, never speed it up). Default 3.")
    var repetitions = 3

    @Option(help: "Where the previous run's figures are read from and this run's written. Default .build/overlay-bench/last.json (never in git).")
    var baseline = ".build/overlay-bench/last.json"

    @Option(help: "Directory holding overlayd and overlayctl. Default: the directory of this executable (the same build).")
    var binDir: String?

    @Option(help: "UDP port of the measured daemon on 127.0.0.1. Default 0: a free one, so runs never collide.")
    var port: UInt16 = 0

    @Flag(help: "Skip the real daemon (API, CLI and RSS at --members).")
    var noDaemon = false

    @Flag(help: "Skip Serf even when it is installed.")
    var noSerf = false

    @Flag(help: "A few seconds in all (10 nodes, 50 members, 3 calls, 1 replay, no Serf): the smoke test ops/test runs. Its figures are not comparable with a full run's and are not saved.")
    var quick = false

    mutating func run() throws {
        if quick {
            cloud = 10; steady = 10; members = 50; calls = 3; repetitions = 1; noSerf = true
        }
        var report = FigureReport()

        say("virtual cloud: \(cloud) agents, real libsodium signatures, radio preset, virtual time (no sockets)")
        var virtual = VirtualCloud(count: cloud, recorded: 0)
        virtual.startAll(spacing: .milliseconds(100))
        // Joining queues a burst of claims and view votes; the steady window starts once every
        // queue is empty (or after --settle-limit), so it measures a cloud that has formed.
        var settled = 0
        repeat {
            virtual.run(for: .seconds(10))
            settled += 10
        } while settled < settleLimit && virtual.agents.contains { ($0?.queuedItems ?? 0) > 0 }
        let queued = virtual.agents.reduce(0) { $0 + ($1?.queuedItems ?? 0) }
        say("  after the joins (\(cloud) nodes, 100 ms apart), \(settled) virtual s until every queue was empty" + (queued > 0 ? " (not reached: \(queued) items queued)" : ""))
        let bytesBefore = virtual.bytesSent.reduce(0, +)
        let datagramsBefore = virtual.datagramsSent.reduce(0, +)
        virtual.resetKinds()
        let cpuBefore = processCPUSeconds()
        virtual.run(for: .seconds(steady))
        let cpu = processCPUSeconds() - cpuBefore
        for (kind, sent) in virtual.byKind.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            say(String(
                format: "  %@: %.2f datagrams/s per node, %.0f B/s per node, %.1f items each", kind,
                Double(sent.datagrams) / Double(cloud * steady), Double(sent.bytes) / Double(cloud * steady),
                Double(sent.items) / Double(max(1, sent.datagrams))))
        }
        for (kind, sent) in virtual.itemsByKind.sorted(by: { $0.value.bytes > $1.value.bytes }) {
            say(String(
                format: "  items %@: %.1f copies/s per node, %.0f B/s per node, %.0f bytes each", kind,
                Double(sent.copies) / Double(cloud * steady), Double(sent.bytes) / Double(cloud * steady),
                Double(sent.bytes) / Double(max(1, sent.copies))))
        }
        if let founder = virtual.agents[0], let view = founder.quorumView?.view {
            say("  node 0's view: epoch \(view.epoch), \(view.members.count) members; \(founder.queuedItems) items queued after the window")
        }
        let nodeSeconds = Double(cloud * steady)
        let converged = virtual.agents.count { agent in
            (agent?.membership.members.values.count { $0.state == .alive } ?? 0) == cloud - 1
        }
        say("  \(converged) of \(cloud) agents see all the others alive")
        report.add(Figure(
            key: "cloud.bytes_per_node", label: "UDP payload sent per node, \(cloud) members",
            value: Double(virtual.bytesSent.reduce(0, +) - bytesBefore) / nodeSeconds, unit: "B/s", target: "< 2 KB/s (IP bytes: add 28 per datagram)"))
        report.add(Figure(
            key: "cloud.datagrams_per_node", label: "datagrams sent per node, \(cloud) members",
            value: Double(virtual.datagramsSent.reduce(0, +) - datagramsBefore) / nodeSeconds, unit: "/s", neutral: true))
        report.add(Figure(
            key: "cloud.cpu_per_node", label: "core + libsodium CPU per node, \(cloud) members (no I/O)",
            value: 100 * cpu / nodeSeconds, unit: "% of a core", target: "< 1% (the daemon adds its I/O: ops/bench/serf-side-by-side)"))

        say("receive path: node 0's \(virtual.recording.count) inputs replayed into a fresh copy of it")
        let path = ReceivePathBench.measure(virtual, repetitions: repetitions)
        guard path.replayMatches else { throw BenchError("the replay diverged from the recorded node; the receive-path figures would be wrong") }
        let rawRate = Double(path.verifications) / path.rawVerifySeconds
        let pathRate = Double(path.verifications) / path.pathSeconds
        let signCost = path.rawSignSeconds
        report.add(Figure(key: "crypto.raw_verify", label: "raw libsodium verify, the same signatures", value: rawRate, unit: "/s", higherIsBetter: true))
        report.add(Figure(
            key: "path.datagrams", label: "receive path, datagrams (\(path.datagrams), \(path.verifications) signatures)",
            value: Double(path.datagrams) / path.pathSeconds, unit: "/s", higherIsBetter: true))
        report.add(Figure(
            key: "path.verify_ratio", label: "receive path's verifications/s over raw verify (replies' signing included)",
            value: 100 * pathRate / rawRate, unit: "%", target: "≥ 80%", higherIsBetter: true))
        report.add(Figure(
            key: "path.verify_ratio_no_replies", label: "the same, less the \(path.signatures) signatures of the replies",
            value: 100 * path.rawVerifySeconds / max(1e-9, path.pathSeconds - signCost), unit: "%", target: "≥ 80%", higherIsBetter: true))
        report.add(Figure(
            key: "path.duplicates_skipped", label: "relayed items dropped as already seen, unverified", value: Double(path.duplicatesSkipped), unit: "items", neutral: true))
        report.add(Figure(
            key: "path.verified_twice", label: "signatures verified twice", value: Double(path.repeatedVerifications), unit: "", target: "0"))
        guard path.repeatedVerifications == 0 else {
            throw BenchError("the receive path verified \(path.repeatedVerifications) signatures a second time")
        }

        if let codec = CodecBench.measure(virtual.recording, iterations: quick ? 2_000 : 50_000) {
            say("codec: the largest datagram received (\(codec.bytes) bytes, \(codec.items) items), protobuf only")
            report.add(Figure(key: "codec.encode", label: "encode one \(codec.bytes)-byte datagram", value: codec.encodeMicroseconds, unit: "µs"))
            report.add(Figure(key: "codec.decode", label: "decode one \(codec.bytes)-byte datagram", value: codec.decodeMicroseconds, unit: "µs"))
        }

        if !noDaemon {
            let bin = try binDir ?? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
                .split(separator: "/").dropLast().joined(separator: "/").prepending("/")
            say("daemon: \(bin)/overlayd holding \(members) members (a silent crowd of \(members - 1) joined it)")
            let daemon = try DaemonBench(binDirectory: bin, members: members, calls: calls, port: port).measure()
            report.add(Figure(
                key: "api.peers", label: "GET /v1/peers, \(daemon.members) members (\(daemon.apiBytes / 1024) KB)",
                value: daemon.apiMilliseconds, unit: "ms"))
            report.add(Figure(key: "cli.peers", label: "overlayctl peers, \(daemon.members) members", value: daemon.cliMilliseconds, unit: "ms", target: "< 50 ms, and under serf members"))
            report.add(Figure(key: "daemon.rss", label: "overlayd RSS, \(daemon.members) members", value: daemon.residentMegabytes, unit: "MB", target: "< 30 MB"))
        }

        if !noSerf, let serf = ProcessTools.which("serf") {
            say("serf: \(serf), 5 agents on loopback (1,000 Serf agents do not fit this machine)")
            let serfMembers = try SerfReference(serf: serf, agents: 5, calls: calls, basePort: 18600).measure()
            report.add(Figure(key: "serf.members", label: "serf members, 5 members (reference)", value: serfMembers, unit: "ms"))
        } else if !noSerf {
            say("serf: not installed (apt-get install -y serf), its reference figure is skipped")
        }

        say("")
        // A quick run's figures come from other sizes: comparing them with a full run's would mislead.
        say(report.table(previous: quick ? [:] : FigureReport.loadBaseline(baseline)))
        if !quick {
            try report.save(baseline)
            say("\nsaved to \(baseline); the next run compares with it")
        }
    }
}

extension String {
    fileprivate func prepending(_ prefix: String) -> String { prefix + self }
}
