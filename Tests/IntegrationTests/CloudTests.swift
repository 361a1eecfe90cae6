import Foundation
import OverlayAPI
import OverlayCore
import Testing

/// Multi-process tests: five real `overlayd` processes on loopback, observed through
/// `overlayctl peers --json`, with the `fast` preset.
@Suite(.serialized) struct CloudTests {
    /// The preset the cloud runs, to derive time bounds from (never a magic sleep).
    let settings = MembershipSettings.fast

    @Test func killedNodeIsMarkedFailedEverywhereAndRejoinsFromItsSnapshot() throws {
        let cloud = try LocalCloud(count: 5, basePort: 17300)
        defer { cloud.shutdown() }
        try cloud.startAll()

        let converged = cloud.waitUntil(timeout: .seconds(20)) {
            (0..<5).allSatisfy { index in cloud.peers(index)?.filter { $0.state == "alive" }.count == 5 }
        }
        try #require(converged != nil, "the cloud did not converge:\n\(cloud.logs())")
        print("5 nodes converged in \(converged!)")

        let victim = cloud.ids[4]
        let before = try #require(cloud.state(of: victim, at: 0)?.incarnation)
        cloud.kill9(4)
        // The bound follows from the preset: two probe intervals, the longest suspicion
        // timeout, gossip; plus one second for process scheduling and our 100 ms polling.
        let bound = settings.failureDetectionBound(memberCount: 5) + .seconds(1)
        let detected = cloud.waitUntil(timeout: bound) {
            (0..<4).allSatisfy { cloud.state(of: victim, at: $0)?.state == "failed" }
        }
        #expect(detected != nil, "node-5 not failed everywhere within \(bound):\n\(cloud.logs())")
        if let detected {
            print("killed node marked failed everywhere after \(detected) (bound \(bound), probe interval \(settings.probeInterval))")
        }

        try cloud.removeSeeds(4)
        try cloud.start(4)
        let rejoined = cloud.waitUntil(timeout: .seconds(15)) {
            (0..<5).allSatisfy { index in
                guard let info = cloud.state(of: victim, at: index) else { return false }
                return info.state == "alive" && info.incarnation > before
            }
        }
        #expect(rejoined != nil, "node-5 did not rejoin from its snapshot:\n\(cloud.logs())")
        if let rejoined { print("restarted node alive everywhere after \(rejoined), without seeds") }
    }

    @Test func overlayctlWithoutDaemonPrintsOneSentenceAndFails() throws {
        let ctl = LocalCloud.binaryDirectory().appendingPathComponent("overlayctl")
        let result = try runProgram(ctl, ["peers", "--socket", "/nonexistent/overlayd.sock"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one sentence, got: \(result.stderr)")
        #expect(result.stderr.contains("/nonexistent/overlayd.sock"))
        #expect(result.stdout.isEmpty)
    }

    @Test func configWithUnknownKeyIsRefusedByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overlayd-cfg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("overlayd.toml").path
        try "[network]\nbnd = \"127.0.0.1:7946\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let overlayd = LocalCloud.binaryDirectory().appendingPathComponent("overlayd")
        let result = try runProgram(overlayd, ["check-config", "--config", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("network.bnd"), "message should name the key: \(result.stderr)")
        #expect(result.stderr.contains(path), "message should name the file: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
