import Foundation
import OverlayClient
import OverlayCore
import OverlayCrypto
import OverlayNode

/// One real `overlayd` (release build, the default `radio` preset) holding `members` members,
/// asked through its API and `overlayctl`, and its resident memory read from `/proc`.
///
/// The other members are a crowd in this process: each is a real agent with its own key (all in
/// the daemon's keyring) that sends its join, a signed push-pull, to the daemon from one UDP
/// socket, answers the daemon's join challenge (the socket's replies are handed to the agents),
/// and then stays silent. The daemon therefore lists every member, first alive, and in
/// the minute the suite takes it probes only a few dozen of them (one per protocol period), so
/// most are still alive when the API is asked. It holds their claims, its dissemination queue
/// and its suspicion timers, as with a live cloud; not measured here: the traffic of a live
/// cloud of that size.
struct DaemonBench {
    /// What one measurement found.
    struct Result {
        var members = 0
        var apiMilliseconds = 0.0
        var apiBytes = 0
        var cliMilliseconds = 0.0
        var residentMegabytes = 0.0
    }

    let binDirectory: String
    let members: Int
    let calls: Int
    let port: UInt16

    /// Runs the daemon, fills it, measures, stops it.
    func measure() throws -> Result {
        let overlayd = "\(binDirectory)/overlayd"
        let overlayctl = "\(binDirectory)/overlayctl"
        for tool in [overlayd, overlayctl] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw BenchError("\(tool) is missing; build first (swift build -c release) or pass --bin-dir")
        }
        let directory = NSTemporaryDirectory() + "overlay-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = "\(directory)/state"
        let daemonKey = try ProcessTools.run(overlayd, ["init", "--state-dir", state])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let daemonID = NodeID(hex: daemonKey) else { throw BenchError("overlayd init printed '\(daemonKey)', not a key") }
        let crowd = (1..<members).map { _ in NodeIdentity.generate() }
        let crowdIDs = crowd.map { NodeID(bytes: $0.publicKey.bytes)! }
        var keyring = "\(daemonID.hex) bench-0\n"
        for (index, id) in crowdIDs.enumerated() { keyring += "\(id.hex) crowd-\(index + 1)\n" }
        try keyring.write(toFile: "\(directory)/keyring", atomically: true, encoding: .utf8)
        let socket = "\(directory)/api.sock"
        let port = try self.port == 0 ? freeUDPPort() : self.port
        let daemon = try ProcessTools.spawn(overlayd, [
            "--name", "bench-0", "--state-dir", state, "--bind", "127.0.0.1:\(port)", "--keyring", "\(directory)/keyring",
            "--socket", socket, "--log-level", "warning",
        ], log: "\(directory)/overlayd.log")
        defer { ProcessTools.stop(daemon) }
        let client = LocalAPIClient(socketPath: socket)
        var announced: String?
        try waitFor("the daemon to answer on its socket", seconds: 20) {
            announced = try? client.status().node.endpoint
            return announced != nil
        }
        guard let daemonEndpoint = announced.flatMap(PeerEndpoint.init(parsing:)) else {
            throw BenchError("the daemon announced '\(announced ?? "")', not host:port")
        }
        let sender = try UDPSender(to: daemonEndpoint.host, port: daemonEndpoint.port)
        let now = WallClock.now()
        var agents = crowd.enumerated().map { index, identity in
            let id = crowdIDs[index]
            let settings = AgentSettings(name: "crowd-\(index + 1)", endpoint: PeerEndpoint(host: "127.0.0.1", port: UInt16(30_000 + index)))
            return Agent(
                settings: settings, signer: SodiumSigner(identity: identity), verifier: SodiumVerifier(),
                keyring: Keyring([Keyring.Entry(id: id), Keyring.Entry(id: daemonID)]),
                session: UInt64(now.milliseconds), incarnation: 1, joinTargets: [Destination(id: nil, endpoint: daemonEndpoint)],
                seed: UInt64(index + 1), now: now, bootstrapView: false)
        }
        for index in agents.indices {
            for case .transmit(let bytes, let to) in agents[index].start(now: now) where to == daemonEndpoint { sender.send(bytes) }
            // 25 joins every 50 ms: each costs the daemon a push-pull reply; a burst would only
            // overflow its receive buffer.
            if index % 25 == 24 { usleep(50_000) }
        }
        var lastRetry = Date()
        try waitFor("the daemon to list \(members) members", seconds: 60) {
            // The daemon answers each join with a challenge sealed to its joiner: every datagram
            // the socket got goes to the agents (only its recipient takes it), and what they
            // answer (the join again, with the cookie) goes back.
            let now = WallClock.now()
            while let reply = sender.receive() {
                for index in agents.indices {
                    for case .transmit(let bytes, let to) in agents[index].onDatagram(reply, from: daemonEndpoint, now: now)
                    where to == daemonEndpoint { sender.send(bytes) }
                }
            }
            guard let peers = try? client.peers() else { return false }
            if peers.peers.count >= members { return true }
            // A join lost on the way (a full receive buffer) is sent again, as a member's own
            // join timer would: the crowd's agents are ticked for that alone.
            if Date().timeIntervalSince(lastRetry) > 2 {
                lastRetry = Date()
                let listed = Set(peers.peers.map(\.id))
                let now = WallClock.now()
                for index in agents.indices where !listed.contains(crowdIDs[index].hex) {
                    for case .transmit(let bytes, let to) in agents[index].onTick(now: now) where to == daemonEndpoint { sender.send(bytes) }
                }
            }
            return false
        }
        var result = Result()
        var apiTimes: [Double] = []
        for _ in 0..<calls {
            var body = Data()
            apiTimes.append(1000 * seconds { body = (try? client.get("/v1/peers").body) ?? Data() })
            result.apiBytes = body.count
        }
        result.apiMilliseconds = median(apiTimes)
        result.cliMilliseconds = try ProcessTools.medianMilliseconds(overlayctl, ["--socket", socket, "peers"], count: calls)
        result.members = (try? client.peers().peers.count) ?? 0
        result.residentMegabytes = ProcessTools.residentMegabytes(daemon.processIdentifier) ?? .nan
        return result
    }
}

/// `serf members` on a small Serf cloud started here (Debian's `serf`, its default LAN
/// profile): the reference the CLI figure is compared with in the same run.
struct SerfReference {
    let serf: String
    let agents: Int
    let calls: Int
    let basePort: Int

    /// Starts the agents, times `serf members` against the first, stops them.
    func measure() throws -> Double {
        let directory = NSTemporaryDirectory() + "overlay-bench-serf-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var processes: [Process] = []
        defer { processes.forEach(ProcessTools.stop) }
        for index in 0..<agents {
            var arguments = [
                "agent", "-node", "bench-serf-\(index)", "-bind", "127.0.0.1:\(basePort + index)",
                "-rpc-addr", "127.0.0.1:\(basePort + 100 + index)",
            ]
            if index > 0 { arguments += ["-join", "127.0.0.1:\(basePort)"] }
            processes.append(try ProcessTools.spawn(serf, arguments, log: "\(directory)/serf-\(index).log"))
        }
        let rpc = ["members", "-rpc-addr", "127.0.0.1:\(basePort + 100)"]
        try waitFor("\(agents) Serf agents to see each other", seconds: 20) {
            let listed = (try? ProcessTools.run(serf, rpc)) ?? ""
            return listed.split(separator: "\n").filter { $0.contains("alive") }.count >= agents
        }
        return try ProcessTools.medianMilliseconds(serf, rpc, count: calls)
    }
}

/// Polls `condition` every 100 ms for at most `seconds`.
func waitFor(_ what: String, seconds limit: Double, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(limit)
    while Date() < deadline {
        if condition() { return }
        usleep(100_000)
    }
    throw BenchError("gave up waiting \(Int(limit)) s for \(what)")
}

/// A UDP port on 127.0.0.1 that nobody used a moment ago: the kernel picks it for a socket bound
/// to port 0, which is then closed (overlayd itself refuses port 0).
func freeUDPPort() throws -> UInt16 {
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard descriptor >= 0 else { throw BenchError("cannot open a UDP socket (errno \(errno))") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
        }
    }
    guard bound else { throw BenchError("cannot find a free UDP port on 127.0.0.1 (errno \(errno))") }
    return UInt16(bigEndian: address.sin_port)
}

/// One unconnected UDP socket that sends datagrams to one address and reads what comes back.
final class UDPSender {
    private let descriptor: Int32
    private var address = sockaddr_in()

    init(to host: String, port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchError("cannot open a UDP socket (errno \(errno))") }
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
    }

    deinit { close(descriptor) }

    /// A datagram waiting on the socket, without blocking; `nil` when there is none.
    func receive() -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? Data(buffer[0..<count]) : nil
    }

    func send(_ bytes: Data) {
        _ = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
