import ArgumentParser
import Foundation
import OverlayAPI
import OverlayClient

let socketEnvironmentVariable = LocalAPISocket.environmentVariable
let defaultSocketPath = LocalAPISocket.defaultPath

/// The options every subcommand that talks to the daemon shares.
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's API socket (default: $\(socketEnvironmentVariable), else \(defaultSocketPath)).",
            valueName: "path"))
    var socket: String?

    /// A client for the resolved socket.
    var client: LocalAPIClient {
        LocalAPIClient(socketPath: LocalAPISocket.resolve(option: socket))
    }

    /// Runs one exchange with the daemon; on failure prints the error's one sentence to standard
    /// error and exits with 1 (not reachable) or 3 (the daemon answered with an error).
    func call<T>(_ body: (LocalAPIClient) throws(LocalAPIError) -> T) throws -> T {
        do {
            return try body(client)
        } catch {
            printError(error.description)
            throw ExitCode(error.isDaemonUnreachable ? ExitStatus.unreachable : ExitStatus.apiError)
        }
    }
}

/// Writes one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Writes bytes to standard output as they are, adding a final newline if they lack one.
func writeRaw(_ data: Data) {
    var data = data
    if data.last != 0x0A { data.append(0x0A) }
    FileHandle.standardOutput.write(data)
}
