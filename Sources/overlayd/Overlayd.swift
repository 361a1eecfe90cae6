import ArgumentParser
import Foundation
import Logging
import NIOPosix
import OverlayCore
import OverlayNode
import ServiceLifecycle

/// overlayd's version, reported by the API and `--version`.
let overlaydVersion = "0.1.0"

@main
struct Overlayd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlayd",
        abstract: "Gossip agent for community mesh networks: signed SWIM membership over UDP, a local API on a Unix socket.",
        version: overlaydVersion,
        subcommands: [Run.self, Init.self, ShowID.self, CheckConfig.self, ConfigKeys.self],
        defaultSubcommand: Run.self
    )
}

/// Flags shared by the subcommands that read the configuration; each overrides its config key.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "Config file (TOML). Default: /etc/overlayd/overlayd.toml if it exists.")
    var config: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--name")))
    var name: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--state-dir")))
    var stateDir: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--bind")))
    var bind: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--advertise")))
    var advertise: String?
    @Option(name: .customLong("seed"), help: ArgumentHelp(flagHelp("--seed")))
    var seeds: [String] = []
    @Option(name: .long, help: ArgumentHelp(flagHelp("--keyring")))
    var keyring: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--socket")))
    var socket: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--preset")))
    var preset: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--log-level")))
    var logLevel: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--log-format")))
    var logFormat: String?
    @Option(name: .long, help: ArgumentHelp(flagHelp("--metrics-address")))
    var metricsAddress: String?

    /// The configuration: the file (if any), then the flags.
    func resolve() throws -> NodeConfiguration {
        let base: NodeConfiguration
        if let config {
            base = try ConfigFile.load(path: config)
        } else if FileManager.default.fileExists(atPath: ConfigFile.defaultPath) {
            base = try ConfigFile.load(path: ConfigFile.defaultPath)
        } else {
            base = NodeConfiguration()
        }
        var overrides = ConfigOverrides()
        overrides.name = name
        overrides.stateDir = stateDir
        overrides.bind = bind
        overrides.advertise = advertise
        overrides.seeds = seeds.isEmpty ? nil : seeds
        overrides.keyring = keyring
        overrides.socket = socket
        overrides.preset = preset
        overrides.logLevel = logLevel
        overrides.logFormat = logFormat
        overrides.metricsAddress = metricsAddress
        return try overrides.applied(to: base)
    }
}

/// Where the state directory is, for the commands that only need the key: `--state-dir`, or
/// `node.state_dir` of the config file, or the default.
struct StateLocation: ParsableArguments {
    @Option(name: .long, help: "State directory (node.state_dir). Default: /var/lib/overlayd.")
    var stateDir: String?
    @Option(name: .long, help: "Config file to read node.state_dir from.")
    var config: String?

    func resolve() throws -> String {
        if let stateDir { return stateDir }
        if let config { return try ConfigFile.load(path: config).stateDir }
        return NodeConfiguration().stateDir
    }
}

/// A flag's help: the first sentence of its key's documentation, and the key.
func flagHelp(_ flag: String) -> String {
    guard let spec = ConfigSchema.spec(flag: flag) else { return "" }
    return "\(spec.summary) (\(spec.dotted))"
}

/// Prints one sentence and exits non-zero, for errors an operator can fix.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("overlayd: \(error)\n".utf8))
    return ExitCode(1)
}

extension Overlayd {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the agent (the default).")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let configuration: NodeConfiguration
            do {
                configuration = try options.resolve()
            } catch {
                throw fail(error)
            }
            StructuredLogHandler.bootstrap(level: configuration.logLevel, format: configuration.logFormat)
            let logger = Logger(label: "overlayd")
            let group = MultiThreadedEventLoopGroup.singleton
            let runtime: NodeRuntime
            do {
                var runtimeOptions = RuntimeOptions(
                    agent: configuration.agentSettings(), bind: configuration.bind,
                    stateDirectory: StateDirectory(path: configuration.stateDir),
                    keyringPath: configuration.keyringPath, seeds: configuration.seeds, version: overlaydVersion)
                runtimeOptions.gateways = GatewayRuntimeOptions(configuration: configuration)
                runtimeOptions.configuration = configuration
                // SIGHUP and `overlayctl reload` re-read the same file with the same flags.
                let reread = self.options
                runtimeOptions.reread = { try reread.resolve() }
                runtime = try await NodeRuntime(options: runtimeOptions, group: group, logger: logger)
            } catch {
                throw fail(error)
            }
            let api = APIServer(
                socketPath: configuration.socket, socketMode: configuration.socketMode, provider: runtime, version: overlaydVersion,
                socketGroup: configuration.socketGroupID)
            let metricsServer = configuration.metricsAddress.map {
                MetricsServer(address: $0, provider: runtime, version: overlaydVersion)
            }
            let service = OverlayService(runtime: runtime, api: api, metrics: metricsServer, logger: logger)
            let group2 = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
            do {
                try await group2.run()
            } catch {
                throw fail(error)
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create this node's key in the state directory and print its public key (the node ID).")
        @OptionGroup var location: StateLocation

        func run() throws {
            do {
                let identity = try StateDirectory(path: location.resolve()).initialise()
                print(identity.publicKey.hex)
            } catch {
                throw fail(error)
            }
        }
    }

    struct ShowID: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "id", abstract: "Print this node's public key (its ID).")
        @OptionGroup var location: StateLocation

        func run() throws {
            do {
                print(try StateDirectory(path: location.resolve()).loadIdentity().publicKey.hex)
            } catch {
                throw fail(error)
            }
        }
    }

    struct CheckConfig: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check-config", abstract: "Validate the configuration and print what would run.")
        @OptionGroup var options: ConfigOptions

        func run() throws {
            do {
                let configuration = try options.resolve()
                print("configuration OK: name \(configuration.name), bind \(configuration.bind), state \(configuration.stateDir), socket \(configuration.socket)")
            } catch {
                throw fail(error)
            }
        }
    }

    struct ConfigKeys: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config-keys",
            abstract: "List every config key with its type, default and range, from the one table that declares them.")
        @Option(name: .long, help: "Print the Markdown table of one config table (node, network, ..., flags).")
        var markdown: String?
        @Option(name: .long, help: "Rewrite the generated tables of this copy of Docs/configuration.md.")
        var updateDoc: String?

        func run() throws {
            if let path = updateDoc {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw fail(ConfigKeysError("cannot read \(path); pass the path of Docs/configuration.md"))
                }
                let updated = ConfigDoc.updated(document: text)
                do {
                    try updated.write(toFile: path, atomically: true, encoding: .utf8)
                } catch {
                    throw fail(ConfigKeysError("cannot write \(path): \(error.localizedDescription)"))
                }
                print(updated == text ? "\(path) was up to date" : "\(path) updated")
                return
            }
            if let table = markdown {
                guard table == "flags" || !ConfigSchema.specs(in: table).isEmpty else {
                    throw fail(ConfigKeysError("there is no table \(table); the tables are \(ConfigSchema.tables.joined(separator: ", ")), gateways.gateway and flags"))
                }
                print(ConfigDoc.markdown(for: table), terminator: "")
                return
            }
            for spec in ConfigSchema.specs {
                let flag = spec.flag.map { " (\($0))" } ?? ""
                print("\(spec.dotted)\(flag): \(spec.type.documentedType), \(spec.type.documentedRange); default \(spec.defaultValue.documented)")
            }
        }
    }
}

/// A one-sentence error of `overlayd config-keys`.
struct ConfigKeysError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
