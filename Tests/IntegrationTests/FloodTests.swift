import Foundation
import OverlayClient
import Testing

/// A junk flood against a running node: every datagram sent is accounted for (received by the
/// agent, or dropped and counted), the API keeps answering, and the figures are printed.
///
/// Bounded: `OVERLAYD_FLOOD_SECONDS` (default 5) of sending at `OVERLAYD_FLOOD_RATE` datagrams
/// per second (default 50,000), then at most 30 s for the counters to settle. For the issue's
/// 30 s flood: `OVERLAYD_FLOOD_SECONDS=30 swift test --skip-build --filter FloodTests`.
@Suite(.serialized) struct FloodTests {
    @Test func aJunkFloodIsAccountedForAndTheAPIKeepsAnswering() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = environment["OVERLAYD_FLOOD_SECONDS"].flatMap(Double.init) ?? 5
        let rate = environment["OVERLAYD_FLOOD_RATE"].flatMap(Double.init) ?? 50_000
        let cloud = try LocalCloud(count: 1, basePort: 17940)
        defer { cloud.shutdown() }
        try cloud.startAll()
        let up = cloud.waitUntil(timeout: .seconds(20)) { cloud.peers(0) != nil }
        try #require(up != nil, "the node did not start:\n\(cloud.logs())")
        // What the agent saw: accepted (`received`) or refused (`rejected`, any reason; junk
        // carries no items, so every refusal is of a whole datagram).
        func seenByAgent() -> Double {
            guard let text = cloud.metrics(0) else { return 0 }
            return text.split(separator: "\n").reduce(0.0) { sum, line in
                guard line.hasPrefix("overlayd_datagrams_received_total ") || line.hasPrefix("overlayd_rejected_total{") else { return sum }
                return sum + (Double(line.split(separator: " ").last ?? "") ?? 0)
            }
        }
        let received0 = seenByAgent()
        let softnet0 = Self.softnetDrops()

        // The API is asked every 100 ms during the flood, from a thread of its own.
        let latencies = LatencyLog()
        let socketPath = cloud.nodes[0].socket
        let stop = FloodFlag()
        let prober = Thread {
            let client = LocalAPIClient(socketPath: socketPath)
            while !stop.isSet {
                let start = ContinuousClock.now
                let ok = (try? client.get("/v1/status"))?.status == 200
                latencies.add(ContinuousClock.now - start, ok: ok)
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        prober.start()

        let socket = try UDPSocket()
        var generator = SystemRandomNumberGenerator()
        var junk = [UInt8](repeating: 0, count: 120)
        let started = ContinuousClock.now
        let total = Int(seconds * rate)
        var sent = 0
        // Also bounded in time: a machine too loaded to reach the rate stops at twice the duration.
        while sent < total, ContinuousClock.now - started < .seconds(seconds * 2) {
            // Paced: never ahead of `rate` datagrams per second.
            let due = Int(Double((ContinuousClock.now - started).components.seconds) * rate
                + Double((ContinuousClock.now - started).components.attoseconds) / 1e18 * rate)
            if sent >= due { continue }
            for index in junk.indices where index % 8 == 0 { junk[index] = UInt8.random(in: 0...255, using: &generator) }
            try socket.send(Data(junk), to: "127.0.0.1", port: cloud.nodes[0].port)
            sent += 1
        }
        let elapsed = ContinuousClock.now - started
        stop.set()

        // The agent works through its queue; the counters settle (bounded at 30 s).
        func accounted() -> Double {
            seenByAgent() - received0
                + (cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"socket_buffer\"}") ?? 0)
                + (cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"receive_queue\"}") ?? 0)
        }
        var last = -1.0
        _ = cloud.waitUntil(timeout: .seconds(30)) {
            let now = accounted()
            defer { last = now }
            return now >= Double(sent) || now == last
        }
        let received = seenByAgent() - received0
        let kernel = cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"socket_buffer\"}") ?? 0
        let queue = cloud.metric(0, "overlayd_datagrams_dropped_total{stage=\"receive_queue\"}") ?? 0
        // Loopback can also drop in the kernel's per-CPU input queue before any socket (counted
        // machine-wide in /proc/net/softnet_stat, by other traffic too): only that is excused.
        let softnet = Double(Self.softnetDrops() - softnet0)
        let text = cloud.metrics(0) ?? ""
        let reasons = text.split(separator: "\n")
            .filter { $0.hasPrefix("overlayd_rejected_total{") && !$0.hasSuffix(" 0") }
            .map { String($0.dropFirst("overlayd_rejected_total".count)) }
        let rss = Self.peakRSSKiB(pid: cloud.nodes[0].process?.processIdentifier ?? 0)
        let (worst, median, failures, asked) = latencies.summary()
        print("""
            flood: sent \(sent) junk datagrams in \(elapsed) (\(Int(Double(sent) / max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)))/s)
              seen by the agent (accepted or rejected) \(Int(received)), dropped: socket buffer \(Int(kernel)), receive queue \(Int(queue)), loopback input queue (machine-wide) \(Int(softnet))
              rejected by reason: \(reasons.joined(separator: ", "))
              API /v1/status during the flood: \(asked) asked, \(failures) failed, median \(median), worst \(worst)
              peak RSS \(rss.map { "\($0 / 1024) MiB" } ?? "unknown")
            """)
        #expect(received + kernel + queue <= Double(sent), "more accounted than sent")
        #expect(received + kernel + queue + softnet >= Double(sent), "datagrams unaccounted for:\n\(text)")
        #expect(failures == 0, "the API failed to answer during the flood")
        #expect(asked > 0)
        #expect(cloud.peers(0) != nil, "the node stopped answering:\n\(cloud.logs())")
    }

    /// The sum of the `dropped` column (the second) of `/proc/net/softnet_stat`.
    static func softnetDrops() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/net/softnet_stat", encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").reduce(0) { sum, line in
            let fields = line.split(separator: " ")
            return sum + (fields.count > 1 ? Int(fields[1], radix: 16) ?? 0 : 0)
        }
    }

    /// A process's peak resident set (`VmHWM`), in KiB.
    static func peakRSSKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}

/// Set once, read from another thread.
final class FloodFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// API round-trip times, added from the prober thread.
final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [Duration] = []
    private var failed = 0

    func add(_ latency: Duration, ok: Bool) {
        lock.withLock {
            samples.append(latency)
            if !ok { failed += 1 }
        }
    }

    func summary() -> (worst: Duration, median: Duration, failures: Int, asked: Int) {
        lock.withLock {
            let sorted = samples.sorted()
            return (sorted.last ?? .zero, sorted.isEmpty ? .zero : sorted[sorted.count / 2], failed, samples.count)
        }
    }
}
