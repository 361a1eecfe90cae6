import Foundation
import OverlayCore
import Testing

@testable import OverlayNode

/// Reading the routing daemon through its command: a good output becomes the hop table; a
/// command that fails, hangs or prints garbage leaves the last good table and says why.
@Suite struct HopSourceReaderTests {
    static let now = Instant(milliseconds: 1_700_000_000_000)

    @Test func goodOutputBecomesTheHopTable() async {
        let reader = HopSourceReader(
            format: .bmx7, command: #"printf '{"originators":[{"name":"gw-escola","primaryIp":"fd00::1","hops":2,"metric":"999M"}]}'"#)
        var cache = HopTableCache()
        let result = reader.apply(await reader.run(), to: &cache, now: Self.now)
        #expect((try? result.get())?.hops(for: "gw-escola") == 2)
        #expect(cache.table.hops(for: "fd00::1") == 2)
    }

    @Test func failingOrGarbageOutputKeepsTheLastGoodTable() async {
        var cache = HopTableCache(initial: HopTable(["gw-a": 3]))
        let failing = HopSourceReader(format: .batmanAdv, command: "echo 'Error - mesh has not been enabled yet' >&2; exit 1")
        guard case .failure(let error) = failing.apply(await failing.run(), to: &cache, now: Self.now) else {
            Issue.record("a failing command was accepted")
            return
        }
        #expect(error.description.contains("exited with status 1"))
        #expect(error.description.hasSuffix("the previous hop table is kept."))
        let garbage = HopSourceReader(format: .babel, command: "echo 'this is not babel'")
        guard case .failure = garbage.apply(await garbage.run(), to: &cache, now: Self.now) else {
            Issue.record("garbage was accepted")
            return
        }
        #expect(cache.table.hops(for: "gw-a") == 3)
        #expect(cache.consecutiveFailures == 2)
    }

    @Test func hungCommandIsStopped() async {
        let reader = HopSourceReader(format: .bmx7, command: "sleep 120", timeout: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        guard case .failure(let error) = await reader.run() else {
            Issue.record("a hung command gave output")
            return
        }
        #expect(error.description.contains("ran longer than"))
        // Not a timing test (the machine may be loaded): only that it is stopped long before
        // the command would have ended by itself.
        #expect(clock.now - start < .seconds(60))
    }

    /// `echo dump | nc -q 1 ...` is a pipeline: killing the shell alone would leave `nc`
    /// holding the pipe, and the read would never end.
    @Test func aHungPipelineIsStoppedWholeAndTheReaderReturns() async {
        let marker = "hop-reader-test-\(UInt32.random(in: 0...UInt32.max))"
        let reader = HopSourceReader(format: .babel, command: "echo dump | sh -c 'sleep 120; : \(marker)' | cat", timeout: .milliseconds(300))
        guard case .failure(let error) = await reader.run() else {
            Issue.record("a hung pipeline gave output")
            return
        }
        #expect(error.description.contains("ran longer than"))
        try? await Task.sleep(for: .milliseconds(200))
        let left = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        #expect(left != nil)
        let survivors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let running = survivors.filter { entry in
            guard Int(entry) != nil, let cmdline = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(marker)
        }
        #expect(running.isEmpty, "left running: \(running)")
    }

    /// The command sees no blocked signal (the daemon's threads block most; `nc -q 1` quits on
    /// `SIGALRM` and hung for ever when the mask was inherited).
    @Test func theCommandRunsWithNoSignalBlocked() async throws {
        let reader = HopSourceReader(format: .babel, command: "grep SigBlk /proc/self/status")
        let text = try await reader.run().get()
        let mask = text.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? "?"
        #expect(mask.allSatisfy { $0 == "0" } && !mask.isEmpty, "SigBlk \(mask)")
    }

    @Test func aCommandKilledOrMissingIsReportedByStatus() async {
        let missing = HopSourceReader(format: .babel, command: "/nonexistent/babel-dump")
        guard case .failure(let error) = await missing.run() else {
            Issue.record("a missing command gave output")
            return
        }
        #expect(error.description.contains("exited with status 127"))
    }
}
