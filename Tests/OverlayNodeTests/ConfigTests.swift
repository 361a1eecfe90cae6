import Foundation
import Logging
import OverlayCore
import Testing

@testable import OverlayNode

/// The config file, the command-line overrides and their error messages.
@Suite struct ConfigTests {
    static let file = "/etc/overlayd/test.toml"

    /// A file using every key, with values away from the defaults.
    static let fullText = """
        # every key
        [node]
        name = "roof-7"
        state_dir = "/srv/overlayd"

        [network]
        bind = "[::]:7000"
        advertise = "[fd00::7]:7000"
        seeds = ["10.1.0.1:7946", "[fd00::1]:7946", "gw.example.net:7946"]
        keyring = "/etc/overlayd/keyring"

        [api]
        socket = "/run/ovl/api.sock"
        socket_mode = "0600"

        [membership]
        preset = "lan"
        probe_interval_ms = 1500
        probe_timeout_ms = 700
        indirect_checks = 4
        suspicion_multiplier = 5.5
        suspicion_max_timeout_multiplier = 3
        awareness_max = 6
        retransmit_multiplier = 5
        gossip_interval_ms = 250
        gossip_fanout = 4
        push_pull_interval_ms = 45000
        join_retry_interval_ms = 3000
        reconnect_interval_ms = 20000
        failed_retention_s = 7200
        left_retention_s = 600

        [security]
        clock_skew_window_s = 0
        sender_rate_per_second = 50.5
        sender_burst = 100

        [log]
        level = "debug"
        format = "json"
        """

    private func parseError(_ text: String, source: String = file) -> ConfigError? {
        do {
            _ = try ConfigFile.parse(text: text, source: source)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    private func error(_ body: () throws -> Any) -> ConfigError? {
        do {
            _ = try body()
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    private func isOneSentence(_ text: String) -> Bool {
        text.hasSuffix(".") && !text.contains("\n") && !text.dropLast().contains(". ")
    }

    private func temporaryFile(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("overlayd-config-\(UUID().uuidString).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    // MARK: Defaults

    @Test func defaultsAreTheDocumentedValues() {
        let config = NodeConfiguration()
        #expect(config.name == ConfigDefaults.hostName())
        #expect(!config.name.isEmpty)
        #expect(config.stateDir == "/var/lib/overlayd")
        #expect(config.bind == PeerEndpoint(host: "0.0.0.0", port: 7946))
        #expect(config.advertise == nil)
        #expect(config.seeds.isEmpty)
        #expect(config.keyring == nil)
        #expect(config.keyPath == "/var/lib/overlayd/node.key")
        #expect(config.keyringPath == "/var/lib/overlayd/keyring")
        #expect(config.snapshotPath == "/var/lib/overlayd/peers.json")
        #expect(config.socket == "/run/overlayd/overlayd.sock")
        #expect(config.socketMode == 0o660)
        #expect(config.membershipPreset == "radio")
        #expect(config.membership == MembershipSettings.radio)
        #expect(config.clockSkewWindow == .seconds(600))
        #expect(config.senderRatePerSecond == 200)
        #expect(config.senderBurst == 400)
        #expect(config.logLevel == .info)
        #expect(config.logFormat == .text)
        #expect(config.source == nil)
    }

    @Test func securityDefaultsMatchTheCore() {
        let config = NodeConfiguration()
        let core = AgentSettings(name: "x", endpoint: PeerEndpoint(host: "10.0.0.1", port: 1))
        #expect(config.clockSkewWindow == core.clockSkewWindow)
        #expect(config.senderRatePerSecond == core.senderRatePerSecond)
        #expect(config.senderBurst == core.senderBurst)
    }

    @Test func emptyFileGivesTheDefaults() throws {
        var expected = NodeConfiguration()
        expected.source = Self.file
        #expect(try ConfigFile.parse(text: "", source: Self.file) == expected)
        #expect(try ConfigFile.parse(text: "# only a comment\n\n", source: Self.file) == expected)
    }

    // MARK: Full file

    @Test func fullFileSetsEveryKey() throws {
        let config = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        #expect(config.name == "roof-7")
        #expect(config.stateDir == "/srv/overlayd")
        #expect(config.bind == PeerEndpoint(host: "::", port: 7000))
        #expect(config.advertise == PeerEndpoint(host: "fd00::7", port: 7000))
        #expect(config.seeds == [
            PeerEndpoint(host: "10.1.0.1", port: 7946), PeerEndpoint(host: "fd00::1", port: 7946),
            PeerEndpoint(host: "gw.example.net", port: 7946),
        ])
        #expect(config.keyringPath == "/etc/overlayd/keyring")
        #expect(config.keyPath == "/srv/overlayd/node.key")
        #expect(config.socket == "/run/ovl/api.sock")
        #expect(config.socketMode == 0o600)
        #expect(config.membershipPreset == "lan")
        let m = config.membership
        #expect(m.probeInterval == .milliseconds(1500))
        #expect(m.probeTimeout == .milliseconds(700))
        #expect(m.indirectChecks == 4)
        #expect(m.suspicionMultiplier == 5.5)
        #expect(m.suspicionMaxTimeoutMultiplier == 3)
        #expect(m.awarenessMax == 6)
        #expect(m.retransmitMultiplier == 5)
        #expect(m.gossipInterval == .milliseconds(250))
        #expect(m.gossipFanout == 4)
        #expect(m.pushPullInterval == .seconds(45))
        #expect(m.joinRetryInterval == .seconds(3))
        #expect(m.reconnectInterval == .seconds(20))
        #expect(m.failedRetention == .seconds(7200))
        #expect(m.leftRetention == .seconds(600))
        #expect(config.clockSkewWindow == nil)
        #expect(config.senderRatePerSecond == 50.5)
        #expect(config.senderBurst == 100)
        #expect(config.logLevel == .debug)
        #expect(config.logFormat == .json)
        #expect(config.source == Self.file)
    }

    @Test func fullFileRoundTripsThroughRender() throws {
        let config = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        let again = try ConfigFile.parse(text: ConfigFile.render(config), source: Self.file)
        #expect(again == config)
    }

    @Test func renderedDefaultsParseBackAndShowPresetValuesAsComments() throws {
        var defaults = NodeConfiguration()
        defaults.name = "a \"quoted\" name\\"
        let text = ConfigFile.render(defaults)
        #expect(text.contains("# probe_interval_ms = 1000"))
        #expect(text.contains("# keyring = \"/var/lib/overlayd/keyring\""))
        var parsed = try ConfigFile.parse(text: text, source: Self.file)
        parsed.source = nil
        #expect(parsed == defaults)
    }

    @Test func exampleFileIsValidAndComplete() throws {
        let example = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Examples/overlayd.toml").path
        let config = try ConfigFile.resolve(path: example)
        #expect(config.membershipPreset == "radio")
        #expect(!config.seeds.isEmpty)
        #expect(config.advertise != nil)
        #expect(config.source == example)
    }

    @Test func agentSettingsCarryEveryCoreSetting() throws {
        let config = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        let settings = config.agentSettings()
        #expect(settings.name == "roof-7")
        #expect(settings.endpoint == PeerEndpoint(host: "fd00::7", port: 7000))
        #expect(settings.membership == config.membership)
        #expect(settings.clockSkewWindow == nil)
        #expect(settings.senderRatePerSecond == 50.5)
        #expect(settings.senderBurst == 100)
    }

    // MARK: Presets

    @Test func presetWithOverrideKeepsTheOverrideAndThePresetsOtherValues() throws {
        let config = try ConfigFile.parse(
            text: "[membership]\npreset = \"fast\"\nprobe_interval_ms = 300\nsuspicion_multiplier = 4\n", source: Self.file)
        let m = config.membership
        #expect(m.probeInterval == .milliseconds(300))
        #expect(m.suspicionMultiplier == 4)
        #expect(m.probeTimeout == MembershipSettings.fast.probeTimeout)
        #expect(m.gossipInterval == MembershipSettings.fast.gossipInterval)
        #expect(m.pushPullInterval == MembershipSettings.fast.pushPullInterval)
    }

    @Test func everyPresetIsAccepted() throws {
        for (name, settings) in MembershipSettings.presets {
            let config = try ConfigFile.parse(text: "[membership]\npreset = \"\(name)\"\n", source: Self.file)
            #expect(config.membership == settings)
        }
    }

    @Test func presetFlagKeepsTheFilesMembershipKeys() throws {
        let file = try ConfigFile.parse(
            text: "[network]\nbind = \"127.0.0.1:7001\"\n[membership]\nprobe_interval_ms = 2000\n", source: Self.file)
        let config = try ConfigOverrides(preset: "fast").applied(to: file)
        #expect(config.membershipPreset == "fast")
        #expect(config.membership.probeInterval == .seconds(2))
        #expect(config.membership.gossipInterval == MembershipSettings.fast.gossipInterval)
    }

    @Test func presetFlagThatBreaksTheFilesTimeoutNamesTheFileAndKey() throws {
        let file = try ConfigFile.parse(
            text: "[network]\nbind = \"127.0.0.1:7001\"\n[membership]\nprobe_timeout_ms = 300\n", source: Self.file)
        let failure = error { try ConfigOverrides(preset: "fast").applied(to: file) }
        #expect(failure?.key == "membership.probe_timeout_ms")
        #expect(failure?.description.contains(Self.file) == true)
        #expect(failure?.description.contains("preset \"fast\"") == true)
    }

    // MARK: Rejections

    @Test func unknownKeyIsRejectedWithTheNearestKnownKey() throws {
        let failure = try #require(parseError("[membership]\nprobe_intervall_ms = 1000\n"))
        #expect(failure.kind == .unknownKey)
        #expect(failure.key == "membership.probe_intervall_ms")
        #expect(failure.source == Self.file)
        #expect(failure.description
            == "\(Self.file): membership.probe_intervall_ms is not a known key; write membership.probe_interval_ms instead (Docs/configuration.md lists every key).")
    }

    @Test func unknownKeyWithoutNearMatchListsTheTablesKeys() throws {
        let failure = try #require(parseError("[log]\ncolour = true\n"))
        #expect(failure.kind == .unknownKey)
        #expect(failure.key == "log.colour")
        #expect(failure.description.contains("the keys of [log] are level, format"))
    }

    @Test func keyInTheWrongTableIsPointedToItsTable() throws {
        let misplaced = try #require(parseError("[node]\nseeds = [\"10.0.0.1:7946\"]\n"))
        #expect(misplaced.key == "node.seeds")
        #expect(misplaced.description.contains("move it under [network], where it is network.seeds"))
        let topLevel = try #require(parseError("bind = \"0.0.0.0:7946\"\n"))
        #expect(topLevel.kind == .unknownKey)
        #expect(topLevel.key == "bind")
        #expect(topLevel.description.contains("move it under [network]"))
    }

    @Test func unknownTableIsRejected() throws {
        let failure = try #require(parseError("[gossip]\nfanout = 3\n"))
        #expect(failure.kind == .unknownTable)
        #expect(failure.key == "gossip")
        #expect(failure.description.contains(Self.file))
        #expect(failure.description.contains("[node], [network], [api], [membership], [security], [log]"))
        let typo = try #require(parseError("[membershp]\npreset = \"radio\"\n"))
        #expect(typo.description.contains("write [membership] instead"))
        let nested = try #require(parseError("[membership.extra]\nx = 1\n"))
        #expect(nested.kind == .unknownKey)
        #expect(nested.key == "membership.extra")
    }

    @Test func wrongTypeNamesTheKeyAndTheExpectedType() throws {
        let string = try #require(parseError("[membership]\nprobe_interval_ms = \"1000\"\n"))
        #expect(string.kind == .wrongType)
        #expect(string.description
            == "\(Self.file): membership.probe_interval_ms must be a whole number of milliseconds, not a string; write probe_interval_ms = 1000 under [membership].")
        let float = try #require(parseError("[membership]\nprobe_interval_ms = 1000.5\n"))
        #expect(float.kind == .wrongType)
        let seeds = try #require(parseError("[network]\nseeds = \"10.0.0.1:7946\"\n"))
        #expect(seeds.kind == .wrongType)
        #expect(seeds.key == "network.seeds")
        let seedNumber = try #require(parseError("[network]\nseeds = [7946]\n"))
        #expect(seedNumber.kind == .wrongType)
        let mode = try #require(parseError("[api]\nsocket_mode = 660\n"))
        #expect(mode.kind == .wrongType)
        #expect(mode.description.contains("socket_mode = \"0660\""))
        let table = try #require(parseError("node = 3\n"))
        #expect(table.kind == .wrongType)
        #expect(table.key == "node")
    }

    @Test func theSocketGroupIsAGroupOfThisSystem() throws {
        let byName = try ConfigFile.parse(text: "[api]\nsocket_group = \"root\"\n", source: Self.file)
        #expect(byName.socketGroup == "root")
        #expect(byName.socketGroupID == 0)
        #expect(try ConfigFile.parse(text: "[api]\nsocket_group = \"0\"\n", source: Self.file).socketGroupID == 0)
        #expect(try ConfigFile.parse(text: "", source: Self.file).socketGroupID == nil, "default: the daemon's own group")
        let missing = try #require(parseError("[api]\nsocket_group = \"no-such-group-overlayd\"\n"))
        #expect(missing.key == "api.socket_group")
        #expect(missing.description.contains("no group of this system"))
    }

    @Test func integersAreAcceptedWhereFactorsAreExpected() throws {
        let config = try ConfigFile.parse(text: "[membership]\nsuspicion_multiplier = 4\n", source: Self.file)
        #expect(config.membership.suspicionMultiplier == 4)
    }

    /// One bad value per case, and the key that the message must name.
    static let badValues: [(String, String)] = [
        ("[node]\nname = \"\"", "node.name"),
        ("[node]\nname = \"\(String(repeating: "n", count: 65))\"", "node.name"),
        ("[node]\nstate_dir = \"\"", "node.state_dir"),
        ("[network]\nbind = \"0.0.0.0\"", "network.bind"),
        ("[network]\nbind = \"0.0.0.0:0\"", "network.bind"),
        ("[network]\nbind = \"0.0.0.0:70000\"", "network.bind"),
        ("[network]\nbind = \"0.0.0.0:http\"", "network.bind"),
        ("[network]\nbind = \":7946\"", "network.bind"),
        ("[network]\nbind = \"fe80::1:7946\"", "network.bind"),
        ("[network]\nadvertise = \"0.0.0.0:7946\"", "network.advertise"),
        ("[network]\nseeds = [\"10.0.0.1:7946\", \"10.0.0.2\"]", "network.seeds"),
        ("[network]\nkeyring = \"\"", "network.keyring"),
        ("[api]\nsocket = \"/\(String(repeating: "s", count: 120))\"", "api.socket"),
        ("[api]\nsocket_mode = \"0999\"", "api.socket_mode"),
        ("[api]\nsocket_mode = \"rw-rw----\"", "api.socket_mode"),
        ("[api]\nsocket_mode = \"0060\"", "api.socket_mode"),
        ("[membership]\npreset = \"turbo\"", "membership.preset"),
        ("[membership]\nprobe_interval_ms = 0", "membership.probe_interval_ms"),
        ("[membership]\nprobe_interval_ms = -1000", "membership.probe_interval_ms"),
        ("[membership]\nprobe_interval_ms = 400", "membership.probe_interval_ms"),
        ("[membership]\nprobe_timeout_ms = 1000", "membership.probe_timeout_ms"),
        ("[membership]\nindirect_checks = 17", "membership.indirect_checks"),
        ("[membership]\nsuspicion_multiplier = 0.5", "membership.suspicion_multiplier"),
        ("[membership]\nsuspicion_max_timeout_multiplier = nan", "membership.suspicion_max_timeout_multiplier"),
        ("[membership]\nawareness_max = -1", "membership.awareness_max"),
        ("[membership]\nretransmit_multiplier = 0", "membership.retransmit_multiplier"),
        ("[membership]\ngossip_interval_ms = 0", "membership.gossip_interval_ms"),
        ("[membership]\ngossip_fanout = 0", "membership.gossip_fanout"),
        ("[membership]\npush_pull_interval_ms = 0", "membership.push_pull_interval_ms"),
        ("[membership]\njoin_retry_interval_ms = 0", "membership.join_retry_interval_ms"),
        ("[membership]\nreconnect_interval_ms = 0", "membership.reconnect_interval_ms"),
        ("[membership]\nfailed_retention_s = 0", "membership.failed_retention_s"),
        ("[membership]\nleft_retention_s = 0", "membership.left_retention_s"),
        ("[security]\nclock_skew_window_s = -1", "security.clock_skew_window_s"),
        ("[security]\nsender_rate_per_second = 0", "security.sender_rate_per_second"),
        ("[security]\nsender_burst = 0.5", "security.sender_burst"),
        ("[log]\nlevel = \"verbose\"", "log.level"),
        ("[log]\nformat = \"xml\"", "log.format"),
    ]

    @Test(arguments: badValues)
    func everyBadValueIsOneSentenceNamingTheFileAndKey(text: String, key: String) throws {
        let failure = try #require(parseError(text + "\n"))
        #expect(failure.kind == .badValue)
        #expect(failure.key == key)
        #expect(failure.source == Self.file)
        #expect(failure.description.hasPrefix("\(Self.file): \(key) "))
        #expect(failure.description.contains("; write "))
        #expect(isOneSentence(failure.description), "\(failure.description)")
    }

    @Test func badValueMessagesSayWhatToWrite() throws {
        let zero = try #require(parseError("[membership]\nprobe_interval_ms = 0\n"))
        #expect(zero.description
            == "\(Self.file): membership.probe_interval_ms is 0, but it must be between 1 and 600000 milliseconds; write probe_interval_ms = 1000 under [membership].")
        let port = try #require(parseError("[network]\nbind = \"0.0.0.0:70000\"\n"))
        #expect(port.description
            == "\(Self.file): network.bind has \"0.0.0.0:70000\", whose port 70000 is outside 1-65535; write bind = \"0.0.0.0:7946\" under [network].")
        let timeout = try #require(parseError("[membership]\nprobe_timeout_ms = 1000\n"))
        #expect(timeout.description
            == "\(Self.file): membership.probe_timeout_ms is 1000, but it must be less than membership.probe_interval_ms (1000 ms, from preset \"radio\") so indirect probes have time; write probe_timeout_ms = 500 under [membership], or a longer probe_interval_ms.")
    }

    @Test func syntaxErrorReportsFileAndLine() throws {
        let failure = try #require(parseError("[node]\nname = \"a\"\nstate_dir = \n"))
        #expect(failure.kind == .syntax)
        #expect(failure.line == 3)
        #expect(failure.description.hasPrefix("\(Self.file), line 3, column "))
        #expect(isOneSentence(failure.description), "\(failure.description)")
        let duplicate = try #require(parseError("[log]\nlevel = \"info\"\nlevel = \"debug\"\n"))
        #expect(duplicate.kind == .syntax)
        #expect(duplicate.line == 3)
    }

    /// Found by the `config` fuzz target: toml++ aborted the process (an assertion in its key
    /// parser) on a table header whose name starts with a character no key can start with.
    @Test(arguments: ["[\u{E9}]\n", "[node]\nname = \"a\"\n[ =]\n", "[[\u{1}]]\n", "[[# a comment where a name belongs\n", "[\r\n", "[node]\n[\nname = \"a\"\n", "[\u{FFFD}\u{FFFD}]\nlevel = \"debug\"\n"])
    func aTableHeaderThatCannotStartAKeyIsASyntaxErrorNotACrash(document: String) throws {
        let failure = try #require(parseError(document))
        #expect(failure.kind == .syntax)
        #expect(failure.description.contains("a table name must start with a letter, a digit, _, - or a quote"), "\(failure.description)")
        #expect(isOneSentence(failure.description), "\(failure.description)")
    }

    @Test func headersTheCheckMustLeaveAloneStillParse() throws {
        // Quoted names, arrays of tables and a multi-line string holding a line like a bad header.
        let document = "[\"node\"]\nname = \"a\"\n[[gateways.gateway]]\nproxy = \"10.0.1.1:3128\"\nid = \"\"\"\n[=]\"\"\"\n"
        let error = parseError(document)
        #expect(error == nil || !(error!.description.contains("a table name must start")), "\(error?.description ?? "")")
        #expect(parseError("[node]\nname = \"a\" # [=] in a comment\n") == nil)
    }

    // MARK: Files

    @Test func missingExplicitFileIsAnErrorNamingThePath() throws {
        let path = "/nonexistent/overlayd-\(UUID().uuidString).toml"
        let failure = try #require(error { try ConfigFile.load(path: path) })
        #expect(failure.kind == .missingFile)
        #expect(failure.description
            == "The config file \(path) does not exist; create it (Examples/overlayd.toml is a complete example) or pass the right path with --config.")
        let resolved = try #require(error { try ConfigFile.resolve(path: path, overrides: .unprivileged(directory: "./run/a", port: 7001)) })
        #expect(resolved.kind == .missingFile)
    }

    @Test func missingDefaultFileFallsBackToTheDefaults() throws {
        let config = try ConfigFile.resolve(
            path: nil, overrides: .unprivileged(directory: "./run/a", port: 7001),
            defaultPath: "/nonexistent/overlayd-\(UUID().uuidString).toml")
        #expect(config.source == nil)
        #expect(config.membershipPreset == "radio")
    }

    @Test func fileOnDiskIsLoadedAndErrorsNameItsPath() throws {
        let good = try temporaryFile("[network]\nbind = \"127.0.0.1:7002\"\n")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let config = try ConfigFile.resolve(path: nil, defaultPath: good)
        #expect(config.source == good)
        #expect(config.advertisedEndpoint == PeerEndpoint(host: "127.0.0.1", port: 7002))

        let bad = try temporaryFile("[api]\nsocket_mode = \"777\"\nsocket = 5\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let failure = try #require(error { try ConfigFile.load(path: bad) })
        #expect(failure.description.hasPrefix("\(bad): api.socket "))
    }

    @Test func directoryAsConfigFileIsRejected() throws {
        let failure = try #require(error { try ConfigFile.load(path: FileManager.default.temporaryDirectory.path) })
        #expect(failure.kind == .unreadableFile)
    }

    // MARK: Advertise

    @Test func advertiseIsRequiredWithAWildcardBind() throws {
        let file = try ConfigFile.parse(text: "[network]\nbind = \"0.0.0.0:7946\"\n", source: Self.file)
        #expect(file.advertisedEndpoint == nil)
        let failure = try #require(error { try file.validated() })
        #expect(failure.kind == .missingValue)
        #expect(failure.key == "network.advertise")
        #expect(failure.description
            == "\(Self.file): network.advertise is not set, and network.bind (0.0.0.0:7946) is a wildcard address that other nodes cannot reach; write advertise = \"<this node's mesh address>:7946\" under [network], or pass --advertise <address>:7946.")

        let noFile = try #require(error { try ConfigOverrides().applied(to: NodeConfiguration()) })
        #expect(noFile.key == "network.advertise")
        #expect(noFile.description.contains("pass --advertise"))
        #expect(isOneSentence(noFile.description))

        let v6 = try ConfigFile.parse(text: "[network]\nbind = \"[::]:7946\"\n", source: Self.file)
        #expect(error { try v6.validated() }?.key == "network.advertise")
    }

    @Test func advertiseDefaultsToASpecificBindAddress() throws {
        let config = try ConfigFile.parse(text: "[network]\nbind = \"10.1.2.3:7946\"\n", source: Self.file).validated()
        #expect(config.advertisedEndpoint == PeerEndpoint(host: "10.1.2.3", port: 7946))
        #expect(config.agentSettings().endpoint == PeerEndpoint(host: "10.1.2.3", port: 7946))
    }

    @Test func advertiseFlagSatisfiesAWildcardBind() throws {
        let file = try ConfigFile.parse(text: "[network]\nbind = \"0.0.0.0:7946\"\n", source: Self.file)
        let config = try ConfigOverrides(advertise: "10.1.2.3:7946").applied(to: file)
        #expect(config.advertisedEndpoint == PeerEndpoint(host: "10.1.2.3", port: 7946))
    }

    // MARK: Flags

    @Test func flagsOverrideTheFile() throws {
        let file = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        let overrides = ConfigOverrides(
            name: "bench-2", stateDir: "/tmp/ovl", bind: "127.0.0.1:7100", advertise: "127.0.0.1:7101",
            seeds: ["127.0.0.1:7200"], socket: "/tmp/ovl/api.sock", preset: "radio", logLevel: "WARNING",
            logFormat: "text")
        let config = try overrides.applied(to: file)
        #expect(config.name == "bench-2")
        #expect(config.stateDir == "/tmp/ovl")
        #expect(config.keyPath == "/tmp/ovl/node.key")
        #expect(config.keyringPath == "/etc/overlayd/keyring", "an explicit keyring stays")
        #expect(config.bind == PeerEndpoint(host: "127.0.0.1", port: 7100))
        #expect(config.advertise == PeerEndpoint(host: "127.0.0.1", port: 7101))
        #expect(config.seeds == [PeerEndpoint(host: "127.0.0.1", port: 7200)])
        #expect(config.socket == "/tmp/ovl/api.sock")
        #expect(config.membershipPreset == "radio")
        #expect(config.membership.probeInterval == .milliseconds(1500), "the file's keys stay over the new preset")
        #expect(config.logLevel == .warning)
        #expect(config.logFormat == .text)
        #expect(config.socketMode == 0o600, "keys without a flag keep the file's value")
        #expect(config.senderBurst == 100)
    }

    @Test func noFlagsKeepTheFile() throws {
        let file = try ConfigFile.parse(text: Self.fullText, source: Self.file)
        #expect(ConfigOverrides().isEmpty)
        #expect(try ConfigOverrides().applied(to: file) == file)
    }

    @Test func badFlagValueNamesTheFlagAndTheKey() throws {
        let bind = try #require(error { try ConfigOverrides(bind: "localhost").applied(to: NodeConfiguration()) })
        #expect(bind.kind == .badValue)
        #expect(bind.key == "network.bind")
        #expect(bind.source == "the command line")
        #expect(bind.description
            == "The flag --bind (network.bind) has \"localhost\", which is not host:port (the port is missing); pass for example --bind 0.0.0.0:7946.")
        let seed = try #require(error { try ConfigOverrides(seeds: ["10.0.0.1:7946", "[::]:7946"]).applied(to: NodeConfiguration()) })
        #expect(seed.key == "network.seeds")
        #expect(seed.description.hasPrefix("The flag --seed (network.seeds) "))
        let level = try #require(error { try ConfigOverrides(logLevel: "loud").applied(to: NodeConfiguration()) })
        #expect(level.key == "log.level")
        #expect(level.description.contains("--log-level"))
        let preset = try #require(error { try ConfigOverrides(preset: "wan").applied(to: NodeConfiguration()) })
        #expect(preset.description
            == "The flag --preset (membership.preset) is \"wan\", which is not a preset (choose \"fast\", \"lan\", \"radio\"); pass for example --preset radio.")
        for failure in [bind, seed, level, preset] { #expect(isOneSentence(failure.description)) }
    }

    @Test func unprivilegedFlagsTouchNoRootPath() throws {
        let config = try ConfigFile.resolve(
            path: nil, overrides: .unprivileged(directory: "./run/a", port: 7001), defaultPath: nil)
        #expect(config.keyPath == "./run/a/node.key")
        #expect(config.keyringPath == "./run/a/keyring")
        #expect(config.snapshotPath == "./run/a/peers.json")
        #expect(config.socket == "./run/a/overlayd.sock")
        #expect(config.advertisedEndpoint == PeerEndpoint(host: "127.0.0.1", port: 7001))
        for path in [config.keyPath, config.keyringPath, config.snapshotPath, config.socket] {
            #expect(!path.hasPrefix("/"))
        }
    }
}
