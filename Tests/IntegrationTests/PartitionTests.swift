import Foundation
import OverlayAPI
import OverlayClient
import OverlayCore
import Testing

/// Partitions of real `overlayd` processes on loopback, made with iptables rules that drop UDP
/// between chosen ports (in a chain of the test's own, removed afterwards). Needs root.
@Suite(.serialized, .enabled(if: Firewall.isAvailable, "needs root and iptables to make partitions"))
struct PartitionTests {
    let settings = MembershipSettings.fast

    /// Time for a partition to be noticed: failure detection plus the vote delay (two protocol
    /// periods), plus a second for process scheduling and polling.
    var removalBound: Duration {
        settings.failureDetectionBound(memberCount: 5) + settings.probeInterval.scaled(by: 2) + .seconds(2)
    }

    static func membership(_ cloud: LocalCloud, _ index: Int) -> MembershipResponse? {
        guard let data = try? LocalAPIClient(socketPath: cloud.nodes[index].socket).fetch("/v1/membership") else { return nil }
        return try? JSONDecoder().decode(MembershipResponse.self, from: data)
    }

    static func formed(_ cloud: LocalCloud) -> Bool {
        cloud.waitUntil(timeout: .seconds(30)) {
            let views = (0..<cloud.nodes.count).map { membership(cloud, $0) }
            guard let first = views.first??.epoch else { return false }
            return views.allSatisfy { $0?.epoch == first && $0?.viewSize == cloud.nodes.count && $0?.quorum == true }
        } != nil
    }

    @Test func threeTwoSplitMajorityRemovesMinorityWhichKeepsItsViewThenAllReconcile() throws {
        let cloud = try LocalCloud(count: 5, basePort: 17700)
        let firewall = try Firewall(name: "OVLD17700")
        defer {
            firewall.remove()
            cloud.shutdown()
        }
        try cloud.startAll()
        try #require(Self.formed(cloud), "no common five-member view:\n\(cloud.logs())")
        let before = try #require(Self.membership(cloud, 3))

        let majority = [0, 1, 2], minority = [3, 4]
        for a in majority { for b in minority { try firewall.block(cloud.nodes[a].port, cloud.nodes[b].port) } }
        let removed = cloud.waitUntil(timeout: removalBound) {
            majority.allSatisfy { Self.membership(cloud, $0).map { $0.viewSize == 3 && $0.quorum } ?? false }
        }
        #expect(removed != nil, "the majority did not commit the removal within \(removalBound):\n\(cloud.logs())")
        if let removed { print("3/2 split: majority committed the removal of the two after \(removed)") }
        let lost = cloud.waitUntil(timeout: .seconds(10)) {
            minority.allSatisfy { Self.membership(cloud, $0).map { !$0.quorum } ?? false }
        }
        #expect(lost != nil, "the minority still claims quorum")
        if let lost { print("3/2 split: minority reported no quorum after \(lost) (more, counted from the split)") }
        for index in minority {
            let view = Self.membership(cloud, index)
            #expect(view?.epoch == before.epoch, "the minority changed its view")
            #expect(view?.viewSize == 5)
        }

        try firewall.clear()
        let healed = cloud.waitUntil(timeout: .seconds(30)) {
            let views = (0..<5).map { Self.membership(cloud, $0) }
            guard let epoch = views[0]?.epoch else { return false }
            return views.allSatisfy { $0?.epoch == epoch && $0?.viewSize == 5 && $0?.quorum == true }
        }
        #expect(healed != nil, "views did not reconcile within 30 s of healing:\n\(cloud.logs())")
        if let healed { print("3/2 split healed: one five-member view everywhere after \(healed)") }
    }

    @Test func twoTwoOneSplitLeavesNobodyWithQuorum() throws {
        let cloud = try LocalCloud(count: 5, basePort: 17720)
        let firewall = try Firewall(name: "OVLD17720")
        defer {
            firewall.remove()
            cloud.shutdown()
        }
        try cloud.startAll()
        try #require(Self.formed(cloud), "no common five-member view:\n\(cloud.logs())")
        let epoch = Self.membership(cloud, 0)?.epoch
        let side = [0, 0, 1, 1, 2]
        for a in 0..<5 { for b in (a + 1)..<5 where side[a] != side[b] { try firewall.block(cloud.nodes[a].port, cloud.nodes[b].port) } }
        let nobody = cloud.waitUntil(timeout: .seconds(10)) {
            (0..<5).allSatisfy { Self.membership(cloud, $0).map { !$0.quorum } ?? false }
        }
        #expect(nobody != nil, "some side still claims quorum")
        Thread.sleep(forTimeInterval: 3)
        for index in 0..<5 {
            let view = Self.membership(cloud, index)
            #expect(view?.quorum == false, "node-\(index + 1): \(String(describing: view))\n\(cloud.logs())")
            #expect(view?.epoch == epoch, "node-\(index + 1) changed the view without quorum")
        }
    }

    @Test func linkFlappingEveryFewSecondsDoesNotChangeTheView() throws {
        let cloud = try LocalCloud(count: 5, basePort: 17740)
        let firewall = try Firewall(name: "OVLD17740")
        defer {
            firewall.remove()
            cloud.shutdown()
        }
        try cloud.startAll()
        try #require(Self.formed(cloud), "no common five-member view:\n\(cloud.logs())")
        let epoch = Self.membership(cloud, 0)?.epoch
        for flip in 0..<8 {
            if flip % 2 == 0 {
                try firewall.block(cloud.nodes[0].port, cloud.nodes[1].port)
            } else {
                try firewall.clear()
            }
            Thread.sleep(forTimeInterval: 2)
        }
        try firewall.clear()
        Thread.sleep(forTimeInterval: 2)
        for index in 0..<5 {
            let view = Self.membership(cloud, index)
            #expect(view?.epoch == epoch, "the view changed on node-\(index + 1)")
            #expect(view?.viewSize == 5)
            #expect(view?.quorum == true)
        }
    }
}

/// A chain of iptables rules of the test's own: `block` drops UDP between two loopback ports in
/// both directions; `clear` empties the chain; `remove` deletes it.
final class Firewall {
    let chain: String

    /// Whether partitions can be made here: root, with iptables installed.
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables")
    }

    init(name: String) throws {
        chain = name
        remove()
        try iptables(["-N", chain])
        try iptables(["-I", "INPUT", "-j", chain])
    }

    func block(_ a: UInt16, _ b: UInt16) throws {
        for (from, to) in [(a, b), (b, a)] {
            try iptables(["-A", chain, "-i", "lo", "-p", "udp", "--sport", "\(from)", "--dport", "\(to)", "-j", "DROP"])
        }
    }

    func clear() throws { try iptables(["-F", chain]) }

    func remove() {
        _ = try? iptables(["-D", "INPUT", "-j", chain])
        _ = try? iptables(["-F", chain])
        _ = try? iptables(["-X", chain])
    }

    private func iptables(_ arguments: [String]) throws {
        let result = try runProgram(URL(fileURLWithPath: "/usr/sbin/iptables"), arguments)
        guard result.status == 0 else { throw CloudError("iptables \(arguments.joined(separator: " ")): \(result.stderr)") }
    }
}
