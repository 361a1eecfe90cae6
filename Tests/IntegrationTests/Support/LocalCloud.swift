import Foundation
import OverlayAPI
import OverlayClient
import OverlayCore

/// A cloud of real `overlayd` processes on loopback, driven through `overlayctl`, for the
/// multi-process tests. Each node gets its own state directory, socket and UDP port under a
/// temporary directory; `shutdown()` stops every process and removes the directory.
final class LocalCloud: @unchecked Sendable {
    struct Node {
        let name: String
        let directory: URL
        let port: UInt16
        var process: Process?
        var socket: String { directory.appendingPathComponent("overlayd.sock").path }
        var config: String { directory.appendingPathComponent("overlayd.toml").path }
        var log: URL { directory.appendingPathComponent("log") }
    }

    let root: URL
    let binaries: URL
    private(set) var nodes: [Node] = []
    private(set) var ids: [String] = []
    let preset: String

    /// The directory with the built `overlayd` and `overlayctl` (OVERLAYD_BIN_DIR, or the
    /// package's `.build/debug`).
    static func binaryDirectory() -> URL {
        if let dir = ProcessInfo.processInfo.environment["OVERLAYD_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent(".build/debug")
    }

    /// Creates `count` nodes (keys, a shared keyring, configs) without starting them.
    ///
    /// - Parameters:
    ///   - count: the number of nodes.
    ///   - basePort: node i (from 1) listens on `basePort + i`.
    ///   - preset: the membership preset.
    ///   - extraKeys: more public keys to admit (for test clients).
    init(count: Int, basePort: UInt16, preset: String = "fast", extraKeys: [String] = []) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("overlayd-it-\(UUID().uuidString.prefix(8))")
        binaries = Self.binaryDirectory()
        self.preset = preset
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for index in 1...count {
            let directory = root.appendingPathComponent("node-\(index)")
            let result = try runProgram(binaries.appendingPathComponent("overlayd"), ["init", "--state-dir", directory.path])
            guard result.status == 0 else { throw CloudError("overlayd init failed: \(result.stderr)") }
            ids.append(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            nodes.append(Node(name: "node-\(index)", directory: directory, port: basePort + UInt16(index), process: nil))
        }
        let keyring = zip(ids, nodes).map { "\($0) \($1.name)" }.joined(separator: "\n") + "\n"
            + extraKeys.map { "\($0) tester\n" }.joined()
        try keyring.write(to: root.appendingPathComponent("keyring"), atomically: true, encoding: .utf8)
        for node in nodes {
            try config(for: node, seeds: ["127.0.0.1:\(basePort + 1)"]).write(toFile: node.config, atomically: true, encoding: .utf8)
        }
    }

    private func config(for node: Node, seeds: [String]) -> String {
        """
        [node]
        name = "\(node.name)"
        state_dir = "\(node.directory.path)"

        [network]
        bind = "127.0.0.1:\(node.port)"
        seeds = [\(seeds.map { "\"\($0)\"" }.joined(separator: ", "))]
        keyring = "\(root.appendingPathComponent("keyring").path)"

        [api]
        socket = "\(node.socket)"

        [membership]
        preset = "\(preset)"

        [log]
        level = "debug"
        """
    }

    /// Rewrites node `index`'s config without seeds (it must rejoin from its snapshot).
    func removeSeeds(_ index: Int) throws {
        try config(for: nodes[index], seeds: []).write(toFile: nodes[index].config, atomically: true, encoding: .utf8)
    }

    /// Starts node `index`.
    func start(_ index: Int) throws {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent("overlayd")
        process.arguments = ["--config", nodes[index].config]
        if !FileManager.default.fileExists(atPath: nodes[index].log.path) {
            _ = FileManager.default.createFile(atPath: nodes[index].log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: nodes[index].log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        nodes[index].process = process
    }

    /// Starts every node.
    func startAll() throws {
        for index in nodes.indices { try start(index) }
    }

    /// Kills node `index` with SIGKILL (no leave message, as a crash or power cut).
    func kill9(_ index: Int) {
        guard let process = nodes[index].process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        nodes[index].process = nil
    }

    /// `overlayctl peers --json` against node `index`; `nil` if the node does not answer.
    func peers(_ index: Int) -> [PeerInfo]? {
        guard let result = try? runProgram(binaries.appendingPathComponent("overlayctl"), ["peers", "--json", "--socket", nodes[index].socket]),
              result.status == 0,
              let response = try? JSONDecoder().decode(PeersResponse.self, from: Data(result.stdout.utf8)) else { return nil }
        return response.peers
    }

    /// The state of the node with ID `id` as node `index` reports it.
    func state(of id: String, at index: Int) -> PeerInfo? {
        peers(index)?.first { $0.id == id }
    }

    /// `GET /metrics` of node `index`.
    func metrics(_ index: Int) -> String? {
        guard let (status, body) = try? LocalAPIClient(socketPath: nodes[index].socket).get("/metrics"), status == 200 else { return nil }
        return String(decoding: body, as: UTF8.self)
    }

    /// The value of one metric line (`name{labels}`) in node `index`'s `/metrics`.
    func metric(_ index: Int, _ series: String) -> Double? {
        guard let text = metrics(index) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes; returns the time it took.
    func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < timeout {
            if condition() { return clock.now - start }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition() ? clock.now - start : nil
    }

    /// The last lines of every node's log, to print when a test fails.
    func logs() -> String {
        nodes.map { node in
            let text = (try? String(contentsOf: node.log, encoding: .utf8)) ?? ""
            return "--- \(node.name)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Stops every node (SIGTERM, then SIGKILL after 5 s) and removes the directory.
    func shutdown() {
        for node in nodes {
            if let process = node.process, process.isRunning { process.terminate() }
        }
        for node in nodes {
            guard let process = node.process else { continue }
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(at: root)
    }
}

struct CloudError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program to completion and captures its output.
func runProgram(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
