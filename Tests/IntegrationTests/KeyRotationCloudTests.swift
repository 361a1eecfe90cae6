import Foundation
import OverlayAPI
import Testing

/// `overlayctl keys roll` on a live three-node cloud: the node switches to a new key without
/// leaving the others split, every member lists the roll, and a restart keeps the new key.
@Suite(.serialized) struct KeyRotationCloudTests {
    static func keys(_ cloud: LocalCloud, _ index: Int) -> KeysResponse? {
        guard let result = try? runProgram(cloud.binaries.appendingPathComponent("overlayctl"), ["keys", "--json", "--socket", cloud.nodes[index].socket]),
              result.status == 0 else { return nil }
        return try? JSONDecoder().decode(KeysResponse.self, from: Data(result.stdout.utf8))
    }

    /// The ID node `index` runs as now, from its status.
    static func currentID(_ cloud: LocalCloud, _ index: Int) -> String? { keys(cloud, index)?.localKey }

    @Test func aRolledNodeSwitchesKeysAndStaysInTheCloudAcrossARestart() throws {
        let cloud = try LocalCloud(count: 3, basePort: 17980)
        defer { cloud.shutdown() }
        try cloud.startAll()
        let converged = cloud.waitUntil(timeout: .seconds(20)) {
            (0..<3).allSatisfy { cloud.peers($0)?.filter { $0.state == "alive" }.count == 3 }
        }
        try #require(converged != nil, "the cloud did not converge:\n\(cloud.logs())")

        let old = cloud.ids[1]
        let roll = try runProgram(cloud.binaries.appendingPathComponent("overlayctl"), ["keys", "roll", "--overlap-days", "2", "--socket", cloud.nodes[1].socket])
        #expect(roll.status == 0, "\(roll.stderr)")
        print(roll.stdout)
        let announced = try #require(Self.keys(cloud, 0)?.keys.first { $0.predecessor == old }, "node 1's roll reached node 0")
        let new = announced.id
        #expect(announced.state == "active")
        #expect(Self.keys(cloud, 0)?.keys.first { $0.id == old }?.state == "overlap")

        let switched = cloud.waitUntil(timeout: .seconds(40)) {
            Self.currentID(cloud, 1) == new
                && [0, 2].allSatisfy { cloud.state(of: new, at: $0)?.state == "alive" && cloud.state(of: old, at: $0)?.state != "alive" }
                && cloud.peers(1)?.filter { $0.state == "alive" }.count == 3
        }
        try #require(switched != nil, "node 1 did not switch to its new key:\n\(cloud.logs())")
        print("switched to the new key \(new.prefix(12)) within \(switched!) of asking")
        let id = try runProgram(cloud.binaries.appendingPathComponent("overlayd"), ["id", "--state-dir", cloud.nodes[1].directory.path])
        #expect(id.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == new, "node.key is the new key")
        #expect(!FileManager.default.fileExists(atPath: cloud.nodes[1].directory.appendingPathComponent("node.key.next").path))

        cloud.kill9(1)
        try cloud.start(1)
        let rejoined = cloud.waitUntil(timeout: .seconds(30)) {
            Self.currentID(cloud, 1) == new && [0, 2].allSatisfy { cloud.state(of: new, at: $0)?.state == "alive" }
        }
        #expect(rejoined != nil, "after a restart node 1 runs and rejoins under its new key:\n\(cloud.logs())")
        #expect(Self.keys(cloud, 1)?.keys.contains { $0.id == new && $0.predecessor == old } == true, "the roll survives the restart")
    }
}
