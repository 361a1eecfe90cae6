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
}
