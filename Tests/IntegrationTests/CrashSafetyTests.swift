import Foundation
import OverlayCore
import Testing

/// Crash safety of the state directory with real `overlayd` processes: `kill -9` at varied
/// moments leaves every state file whole, and a corrupted snapshot is set aside.
@Suite(.serialized) struct CrashSafetyTests {
    @Test func killNineAtAnyMomentLeavesTheSnapshotAndKeyWhole() throws {
        let cloud = try LocalCloud(count: 3, basePort: 17900)
        defer { cloud.shutdown() }
        try cloud.startAll()
        let converged = cloud.waitUntil(timeout: .seconds(20)) {
            (0..<3).allSatisfy { cloud.peers($0)?.filter { $0.state == "alive" }.count == 3 }
        }
        try #require(converged != nil, "the cloud did not converge:\n\(cloud.logs())")

        let directory = cloud.nodes[1].directory
        let snapshot = directory.appendingPathComponent("peers.json")
        let key = directory.appendingPathComponent("node.key")
        let keyBytes = try Data(contentsOf: key)
        var incarnations: [UInt64] = []
        // Each start writes the snapshot (a new incarnation) and, as the node rejoins, again
        // for its membership changes; the kills land before, during and after those writes.
        // The delays are fixed (no randomness), spread over 20-600 ms.
        for round in 0..<20 {
            cloud.kill9(1)
            let written = try Data(contentsOf: snapshot)
            let decoded = try #require(
                try? JSONDecoder().decode(PeerSnapshot.self, from: written),
                "round \(round): torn snapshot: \(String(decoding: written, as: UTF8.self))")
            incarnations.append(decoded.incarnation)
            #expect(try Data(contentsOf: key) == keyBytes, "round \(round): the node key changed")
            try cloud.start(1)
            Thread.sleep(forTimeInterval: Double(20 + (round * 149) % 580) / 1000)
        }
        // The incarnation survives every crash: it never goes back.
        #expect(incarnations == incarnations.sorted(), "\(incarnations)")
        #expect((incarnations.last ?? 0) > (incarnations.first ?? 0))

        // The node that was killed twenty times rejoins with its identity.
        let rejoined = cloud.waitUntil(timeout: .seconds(30)) {
            cloud.peers(1)?.first { $0.isLocal }?.id == cloud.ids[1]
                && cloud.state(of: cloud.ids[1], at: 0)?.state == "alive"
        }
        #expect(rejoined != nil, "node-2 did not rejoin:\n\(cloud.logs())")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("node.key.") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aCorruptSnapshotIsSetAsideAndTheNodeStartsFromSeedsWithItsKey() throws {
        let cloud = try LocalCloud(count: 2, basePort: 17920)
        defer { cloud.shutdown() }
        let directory = cloud.nodes[1].directory
        let snapshot = directory.appendingPathComponent("peers.json")
        try Data("{\"incarnation\": 7, \"peers\": [".utf8).write(to: snapshot)  // torn mid-write
        try cloud.startAll()

        let joined = cloud.waitUntil(timeout: .seconds(20)) {
            cloud.peers(1)?.filter { $0.state == "alive" }.count == 2
        }
        #expect(joined != nil, "node-2 did not join from its seed:\n\(cloud.logs())")
        #expect(cloud.peers(1)?.first { $0.isLocal }?.id == cloud.ids[1], "the node's identity changed")

        let log = (try? String(contentsOf: cloud.nodes[1].log, encoding: .utf8)) ?? ""
        let sentence = log.split(separator: "\n").first { $0.contains("peer snapshot") && $0.contains("cannot be read") }
        #expect(sentence?.contains("it is not JSON") == true, "log:\n\(log)")
        #expect(sentence?.contains("moved it to") == true)
        let aside = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("peers.json.corrupt-") }
        #expect(aside.count == 1)
        if let name = aside.first {
            #expect(try Data(contentsOf: directory.appendingPathComponent(name)) == Data("{\"incarnation\": 7, \"peers\": [".utf8))
        }
        // A new, whole snapshot replaces it.
        let rewritten = cloud.waitUntil(timeout: .seconds(10)) {
            (try? Data(contentsOf: snapshot)).flatMap { try? JSONDecoder().decode(PeerSnapshot.self, from: $0) } != nil
        }
        #expect(rewritten != nil)
    }
}
