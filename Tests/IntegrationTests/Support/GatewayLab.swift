import Foundation

/// Real Internet gateways on loopback for the multi-process tests: one origin HTTP server
/// (`python3 -m http.server`) serving a small object, and per gateway a Debian `tinyproxy` in
/// front of it with a delay relay (`ops/lab/delay-relay.py`) in front of the proxy, so each
/// gateway has its own added latency. Every process it starts, ``shutdown()`` stops.
final class GatewayLab: @unchecked Sendable {
    struct Proxy {
        let name: String
        let delayMs: Int
        /// Where nodes reach the gateway: the delay relay.
        let relayPort: UInt16
        /// Where tinyproxy listens, behind the relay.
        let proxyPort: UInt16
        var proxyProcess: Process?
        var relayProcess: Process?
        var endpoint: String { "127.0.0.1:\(relayPort)" }
    }

    /// The probe object's size in bytes.
    static let objectSize = 4096

    let root: URL
    let originPort: UInt16
    private(set) var proxies: [Proxy] = []
    private var origin: Process?

    /// `tinyproxy`'s path, if installed.
    static var tinyproxy: String? {
        ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy", "/usr/local/bin/tinyproxy"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// Whether a missing tinyproxy must fail the test rather than skip it: as root (where
    /// `ops/setup` installs it) or under CI.
    static var mustHaveTinyproxy: Bool {
        getuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil
    }

    /// The probe URL nodes fetch through the gateways.
    var probeURL: String { "http://127.0.0.1:\(originPort)/probe.bin" }

    /// Creates the lab's files (object, proxy configs) without starting anything.
    ///
    /// - Parameters:
    ///   - basePort: the origin listens on `basePort`, gateway i's proxy on `basePort + 10 + i`
    ///     and its relay on `basePort + 20 + i`.
    ///   - gateways: each gateway's name and added delay.
    init(basePort: UInt16, gateways: [(name: String, delayMs: Int)]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("overlayd-lab-\(UUID().uuidString.prefix(8))")
        originPort = basePort
        try FileManager.default.createDirectory(at: root.appendingPathComponent("www"), withIntermediateDirectories: true)
        let object = Data((0..<Self.objectSize).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try object.write(to: root.appendingPathComponent("www/probe.bin"))
        for (index, gateway) in gateways.enumerated() {
            let proxy = Proxy(
                name: gateway.name, delayMs: gateway.delayMs, relayPort: basePort + 20 + UInt16(index + 1),
                proxyPort: basePort + 10 + UInt16(index + 1))
            let config = """
                Port \(proxy.proxyPort)
                Listen 127.0.0.1
                Allow 127.0.0.1
                ConnectPort \(basePort)
                Timeout 30
                MaxClients 64
                LogLevel Warning
                """
            try config.write(to: root.appendingPathComponent("\(gateway.name).conf"), atomically: true, encoding: .utf8)
            proxies.append(proxy)
        }
    }

    /// Starts the origin, every proxy and every relay, and waits until each answers.
    func start() throws {
        origin = try launch("/usr/bin/env", ["python3", "-m", "http.server", "\(originPort)", "--bind", "127.0.0.1",
                                             "--directory", root.appendingPathComponent("www").path], log: "origin.log")
        for index in proxies.indices {
            try startProxy(index)
            proxies[index].relayProcess = try launch(
                "/usr/bin/env",
                ["python3", Self.relayScript.path, "--listen", "127.0.0.1:\(proxies[index].relayPort)",
                 "--target", "127.0.0.1:\(proxies[index].proxyPort)", "--delay-ms", "\(proxies[index].delayMs)"],
                log: "relay-\(proxies[index].name).log")
        }
        let ports = [originPort] + proxies.flatMap { [$0.proxyPort, $0.relayPort] }
        let deadline = Date().addingTimeInterval(10)
        while !ports.allSatisfy(Self.isListening) {
            guard Date() < deadline else { throw CloudError("the gateway lab did not start:\n\(logs())") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Starts (or restarts) gateway `index`'s tinyproxy.
    func startProxy(_ index: Int) throws {
        guard let tinyproxy = Self.tinyproxy else { throw CloudError("tinyproxy is not installed") }
        proxies[index].proxyProcess = try launch(
            tinyproxy, ["-d", "-c", root.appendingPathComponent("\(proxies[index].name).conf").path],
            log: "tinyproxy-\(proxies[index].name).log")
    }

    /// Stops gateway `index`'s proxy (its relay stays: nodes reach a gateway whose proxy died).
    func stopProxy(_ index: Int) {
        stop(proxies[index].proxyProcess)
        proxies[index].proxyProcess = nil
    }

    /// The index of the gateway named `name`.
    func index(of name: String) -> Int? { proxies.firstIndex { $0.name == name } }

    /// The config keys that declare these gateways to a node.
    func gatewaysConfig(extra: String = "") -> String {
        var text = """

            [gateways]
            preset = "fast"
            probe_url = "\(probeURL)"
            expected_bytes = \(Self.objectSize)
            \(extra)
            """
        for proxy in proxies {
            text += "\n\n[[gateways.gateway]]\nid = \"\(proxy.name)\"\nproxy = \"\(proxy.endpoint)\"\ncapacity = 8\n"
        }
        return text
    }

    /// The last lines of every lab log.
    func logs() -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path))?.filter { $0.hasSuffix(".log") }.sorted() ?? []
        return names.map { name in
            let text = (try? String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(5).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// Stops every process it started and removes its directory.
    func shutdown() {
        for proxy in proxies {
            stop(proxy.relayProcess)
            stop(proxy.proxyProcess)
        }
        stop(origin)
        origin = nil
        try? FileManager.default.removeItem(at: root)
    }

    private func stop(_ process: Process?) {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    private func launch(_ executable: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let path = root.appendingPathComponent(log).path
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// `ops/lab/delay-relay.py` of this package.
    static var relayScript: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("ops/lab/delay-relay.py")
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func isListening(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}
