import Foundation
import OverlayAPI
import OverlayCore
import Testing

/// Operations against real `overlayd` processes: reload (SIGHUP and `overlayctl reload`) and
/// the metrics exposition checked by Prometheus's own linter.
@Suite(.serialized) struct OperationsTests {
    private func ctl(_ cloud: LocalCloud, _ index: Int, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(cloud.binaries.appendingPathComponent("overlayctl"), arguments + ["--socket", cloud.nodes[index].socket])
    }

    private func converged(_ cloud: LocalCloud, _ count: Int) -> Bool {
        (0..<count).allSatisfy { cloud.peers($0)?.filter { $0.state == "alive" }.count == count }
    }

    @Test func reloadAppliesGatewaysAndKeyringKeepsMembershipAndRefusesABadConfig() throws {
        let cloud = try LocalCloud(count: 3, basePort: 17800)
        defer { cloud.shutdown() }
        try cloud.startAll()
        try #require(cloud.waitUntil(timeout: .seconds(20)) { converged(cloud, 3) } != nil, "no convergence:\n\(cloud.logs())")
        let incarnation = try #require(cloud.state(of: cloud.ids[0], at: 1)?.incarnation)
        let original = try String(contentsOfFile: cloud.nodes[0].config, encoding: .utf8)

        // 1. A valid change: declared gateways and a strategy, applied without a restart.
        let withGateways = original + """

            [gateways]
            strategy = "rimo"

            [[gateways.gateway]]
            id = "gw-reload"
            proxy = "127.0.0.1:17899"
            """
        try withGateways.write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        let reloaded = try ctl(cloud, 0, ["reload", "--json"])
        #expect(reloaded.status == 0, "reload failed: \(reloaded.stderr)")
        let response = try JSONDecoder().decode(ReloadResponse.self, from: Data(reloaded.stdout.utf8))
        #expect(response.schema == APISchema.version)
        #expect(response.reloaded)
        #expect(response.applied.contains { $0.hasPrefix("gateways") }, "\(response.applied)")
        #expect(response.restartRequired.isEmpty, "\(response.restartRequired)")
        let gateways = try ctl(cloud, 0, ["gateways", "--json"])
        #expect(gateways.stdout.contains("gw-reload"), "the declared gateway is not in force: \(gateways.stdout)")
        let selection = try ctl(cloud, 0, ["selection", "--json"])
        #expect(selection.stdout.contains("\"rimo\""), "the strategy is not in force: \(selection.stdout)")

        // 2. An invalid config is refused by overlayctl with the reason, and by SIGHUP; the node keeps running.
        try (withGateways + "\n[security]\nclok_skew_window_s = 5\n").write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        let refused = try ctl(cloud, 0, ["reload"])
        #expect(refused.status == 3, "a bad config was not refused: \(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("security.clok_skew_window_s"), "the reason is not named: \(refused.stderr)")
        let pid = try #require(cloud.nodes[0].process?.processIdentifier)
        kill(pid, SIGHUP)
        let counted = cloud.waitUntil(timeout: .seconds(5)) {
            cloud.metric(0, "overlayd_config_reloads_total{result=\"refused\"}") == 2
        }
        #expect(counted != nil, "the SIGHUP reload was not refused:\n\(cloud.logs())")
        #expect(cloud.nodes[0].process?.isRunning == true)
        #expect(try ctl(cloud, 0, ["gateways", "--json"]).stdout.contains("gw-reload"), "the old config was not kept")

        // 3. A new keyring on SIGHUP: drop node-3's key; node-1 then refuses node-3's datagrams.
        try withGateways.write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        let keyringPath = cloud.root.appendingPathComponent("keyring")
        let keyring = try String(contentsOf: keyringPath, encoding: .utf8)
        let node1Keyring = cloud.nodes[0].directory.appendingPathComponent("keyring-reloaded")
        try keyring.split(separator: "\n").filter { !$0.hasPrefix(cloud.ids[2]) }.joined(separator: "\n")
            .appending("\n").write(to: node1Keyring, atomically: true, encoding: .utf8)
        try withGateways.replacingOccurrences(of: keyringPath.path, with: node1Keyring.path)
            .write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        let dropped = cloud.waitUntil(timeout: .seconds(10)) {
            (cloud.metric(0, "overlayd_rejected_total{reason=\"unknown_sender\"}") ?? 0) > 0
        }
        #expect(dropped != nil, "node-1 still admits node-3 after the keyring reload:\n\(cloud.logs())")
        #expect(cloud.metric(0, "overlayd_config_reloads_total{result=\"ok\"}") == 2)

        // Membership was never dropped: node-1 kept its incarnation (it did not rejoin).
        let after = try #require(cloud.state(of: cloud.ids[0], at: 1))
        #expect(after.incarnation == incarnation)
        #expect(after.state == "alive")
    }

    @Test func liveMetricsPassPromtoolOnTheSocketAndTheTCPListener() throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) else {
            print("SKIPPED: promtool not installed (apt-get install -y prometheus); the metrics were not linted")
            return
        }
        let cloud = try LocalCloud(count: 2, basePort: 17820)
        defer { cloud.shutdown() }
        let port = 17839
        let config = try String(contentsOfFile: cloud.nodes[0].config, encoding: .utf8)
            .replacingOccurrences(of: "[api]\n", with: "[api]\nmetrics_address = \"127.0.0.1:\(port)\"\n")
        try config.write(toFile: cloud.nodes[0].config, atomically: true, encoding: .utf8)
        try cloud.startAll()
        try #require(cloud.waitUntil(timeout: .seconds(20)) { converged(cloud, 2) } != nil, "no convergence:\n\(cloud.logs())")

        let socketText = try #require(cloud.metrics(0))
        let file = cloud.root.appendingPathComponent("metrics.txt")
        try socketText.write(to: file, atomically: true, encoding: .utf8)
        let lint = try runProgram(URL(fileURLWithPath: "/bin/sh"), ["-c", "\(promtool) check metrics < \(file.path)"])
        #expect(lint.status == 0, "promtool check metrics: \(lint.stdout) \(lint.stderr)")
        #expect(lint.stdout.isEmpty && lint.stderr.isEmpty, "promtool found problems: \(lint.stdout) \(lint.stderr)")
        for name in ["overlayd_build_info", "overlayd_datagrams_sent_total", "overlayd_gossip_sent_bytes_total", "overlayd_quorum"] {
            #expect(socketText.contains("# HELP \(name) "), "\(name) has no help text")
        }

        let tcp = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-w", "\\n%{http_code}", "http://127.0.0.1:\(port)/metrics"])
        #expect(tcp.status == 0, "\(tcp.stderr)")
        #expect(tcp.stdout.hasSuffix("\n200"))
        #expect(tcp.stdout.contains("overlayd_build_info{version="))
        let peers = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/peers"])
        #expect(peers.stdout == "404", "the TCP listener must serve /metrics only")
    }
}
