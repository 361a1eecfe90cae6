import Foundation
import OverlayCore
import Testing

@testable import OverlayNode

/// The `[gateways]`, `[[gateways.gateway]]` and `[gateway]` tables: every key read, rendered back,
/// and refused with one sentence naming the file and the key.
@Suite struct GatewayConfigTests {
    static let file = "/etc/overlayd/gw.toml"

    static let fullText = """
        [gateways]
        preset = "fast"
        strategy = "rimo"
        probe_url = "http://127.0.0.1:17600/probe.bin"
        expected_bytes = 4096
        probe_timeout_ms = 1500
        max_concurrent_probes = 2
        allow = ["gw-a", "10.0.0.2:3128"]
        deny = ["gw-c"]
        max_hops = 4
        hop_source = "babel"
        hop_command = "cat /tmp/babel-dump"
        hop_refresh_s = 10
        freshness_window_s = 20
        reselection_period_s = 10
        target_observers = 2

        [[gateways.gateway]]
        id = "gw-a"
        proxy = "10.0.0.1:3128"
        capacity = 12
        hops = 2
        route_key = "fd00::1"

        [[gateways.gateway]]
        proxy = "10.0.0.2:3128"

        [gateway]
        id = "gw-home"
        proxy = "10.0.0.9:8888"
        capacity = 5
        """

    private func parseError(_ text: String) -> ConfigError? {
        do {
            _ = try ConfigFile.parse(text: text, source: Self.file)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func everyGatewayKeyIsRead() throws {
        let config = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        let g = config.gateways
        #expect(g.preset == "fast")
        #expect(g.strategy == .rimo)
        #expect(g.probeURL == "http://127.0.0.1:17600/probe.bin")
        #expect(g.expectedBytes == 4096)
        #expect(g.probeTimeout == .milliseconds(1500))
        #expect(g.maxConcurrentProbes == 2)
        #expect(g.allow == ["gw-a", "10.0.0.2:3128"])
        #expect(g.deny == ["gw-c"])
        #expect(g.maxHops == 4)
        #expect(g.hopSource == .babel)
        #expect(g.hopCommandInForce == "cat /tmp/babel-dump")
        #expect(g.hopRefresh == .seconds(10))
        #expect(g.declared.map(\.gatewayID) == ["gw-a", "10.0.0.2:3128"])
        #expect(g.declared[0].capacity == 12 && g.declared[0].hops == 2 && g.declared[0].routeKey == "fd00::1")
        #expect(config.localGateway == LocalGatewayConfiguration(id: "gw-home", proxy: ProxyEndpoint(host: "10.0.0.9", port: 8888), capacity: 5))

        let settings = g.gossipSettings(local: config.localGateway)
        #expect(settings.strategy == .rimo)
        #expect(settings.probeTimeout == .milliseconds(1500))
        #expect(settings.selector.freshnessWindow == .seconds(20))
        #expect(settings.selector.reselectionPeriod == .seconds(10))
        #expect(settings.selector.targetObserversPerPeriod == 2)
        #expect(settings.preferences.maxHops == 4 && settings.preferences.deny == ["gw-c"])
        #expect(settings.hops.hops(for: "fd00::1") == 2)
        #expect(settings.localGateway?.id == "gw-home")
        let runtime = GatewayRuntimeOptions(configuration: config)
        #expect(runtime.hopSource?.format == .babel)
        #expect(runtime.probe.expectedBytes == 4096)
    }

    @Test func gatewayTablesRoundTripThroughRender() throws {
        let config = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        let again = try ConfigFile.parse(text: ConfigFile.render(config), source: Self.file)
        #expect(again == config)
        var defaults = NodeConfiguration()
        defaults.name = "n"
        var parsed = try ConfigFile.parse(text: ConfigFile.render(defaults), source: Self.file)
        parsed.source = nil
        #expect(parsed == defaults)
    }

    @Test func defaultsUseTheStandardPresetAndNoHopSource() {
        let g = GatewaysConfiguration()
        #expect(g.strategy == .collaborative)
        #expect(g.hopCommandInForce == nil)
        let settings = g.gossipSettings(local: nil)
        #expect(settings.selector == .standard)
        #expect(settings.probeTimeout == .seconds(5))
        #expect(GatewaysConfiguration.HopSource.batmanAdv.defaultCommand == "batctl meshif bat0 originators_json")
    }

    @Test(arguments: [
        ("[gateways]\nstrategy = \"fastest\"\n", "gateways.strategy"),
        ("[gateways]\npreset = \"turbo\"\n", "gateways.preset"),
        ("[gateways]\nprobe_url = \"ftp://x/y\"\n", "gateways.probe_url"),
        ("[gateways]\nprobe_timeout_ms = 0\n", "gateways.probe_timeout_ms"),
        ("[gateways]\nmax_concurrent_probes = 100\n", "gateways.max_concurrent_probes"),
        ("[gateways]\nhop_source = \"olsr\"\n", "gateways.hop_source"),
        ("[gateways]\ndeny = [\"\"]\n", "gateways.deny"),
        ("[gateways]\nallow = \"gw-a\"\n", "gateways.allow"),
        ("[gateways]\nprobe_timout_ms = 10\n", "gateways.probe_timout_ms"),
        ("[[gateways.gateway]]\nid = \"a\"\n", "gateways.gateway[1].proxy"),
        ("[[gateways.gateway]]\nproxy = \"10.0.0.1\"\n", "gateways.gateway[1].proxy"),
        ("[[gateways.gateway]]\nproxy = \"10.0.0.1:3128\"\ncapacty = 3\n", "gateways.gateway[1].capacty"),
        ("[[gateways.gateway]]\nproxy = \"10.0.0.1:3128\"\nhops = -1\n", "gateways.gateway[1].hops"),
        ("[[gateways.gateway]]\nproxy = \"10.0.0.1:3128\"\n[[gateways.gateway]]\nproxy = \"10.0.0.1:3128\"\n", "gateways.gateway[2]"),
        ("[gateways.gateway]\nproxy = \"10.0.0.1:3128\"\n", "gateways.gateway"),
        ("[gateway]\nid = \"x\"\n", "gateway.proxy"),
        ("[gateway]\nproxy = \"0.0.0.0:8888\"\n", "gateway.proxy"),
        ("[gateway]\nproxy = \"10.0.0.1:8888\"\ncapacity = 0\n", "gateway.capacity"),
    ])
    func badGatewayValuesAreOneSentenceNamingTheFileAndKey(text: String, key: String) throws {
        let failure = try #require(parseError(text), "accepted: \(text)")
        #expect(failure.key == key, "\(failure.description)")
        #expect(failure.description.hasPrefix(Self.file))
        #expect(!failure.description.contains("\n"))
    }

    @Test func exampleFileDeclaresGateways() throws {
        let example = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/overlayd.toml").path
        let config = try ConfigFile.resolve(path: example)
        #expect(config.gateways.declared.count == 2)
        #expect(config.gateways.hopSource == .batmanAdv)
    }
}
