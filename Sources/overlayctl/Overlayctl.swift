import ArgumentParser
import Foundation

/// overlayctl's version; kept equal to overlayd's.
let overlayctlVersion = "0.1.0"

/// The operator's CLI for overlayd: reads the daemon's local API over its Unix socket.
///
/// Exit codes scripts can rely on: 0 success; 1 the daemon is not reachable (or a local action
/// such as `keygen` failed, or the daemon closed the event stream); 2 usage error; 3 the daemon
/// answered with an error.
@main
struct Overlayctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlayctl",
        abstract: "Inspect a running overlayd through its local API.",
        discussion: """
            The socket is --socket PATH, else $\(socketEnvironmentVariable), else \(defaultSocketPath).

            Exit codes: 0 success; 1 overlayd is not reachable (or keygen could not write the key, \
            or overlayd closed the event stream); 2 usage error; 3 overlayd answered with an error.
            """,
        version: overlayctlVersion,
        subcommands: [
            StatusCommand.self, PeersCommand.self, GatewaysCommand.self, SelectionCommand.self,
            ObservationsCommand.self, EventsCommand.self, ReloadCommand.self, KeysCommand.self, KeygenCommand.self,
        ]
    )

    /// Runs the command, mapping usage errors to exit status 2 (ArgumentParser's own is 64).
    static func main() {
        do {
            var command = try parseAsRoot(globalOptionsMovedAfterSubcommand(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            if exitCode(for: error).rawValue == ExitCode.validationFailure.rawValue {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// Lets `--socket PATH` (or `--socket=PATH`) come before the subcommand, as in
/// `overlayctl --socket PATH peers`: it is moved after the subcommand name, where the
/// subcommands declare it.
func globalOptionsMovedAfterSubcommand(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("--socket") {
        leading.append(first)
        rest = rest.dropFirst()
        if first == "--socket", let value = rest.first {
            leading.append(value)
            rest = rest.dropFirst()
        }
    }
    guard !leading.isEmpty, let subcommand = rest.first else { return arguments }
    return [subcommand] + leading + rest.dropFirst()
}

/// overlayctl's exit statuses.
enum ExitStatus {
    /// Success.
    static let ok: Int32 = 0
    /// overlayd is not reachable, a local action failed, or overlayd closed the event stream.
    static let unreachable: Int32 = 1
    /// The command line is wrong.
    static let usage: Int32 = 2
    /// overlayd answered with an error (or with something unreadable).
    static let apiError: Int32 = 3
}
