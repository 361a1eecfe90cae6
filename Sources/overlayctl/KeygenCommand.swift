import ArgumentParser
import OverlayAPI
import OverlayCrypto
import OverlayNode

/// `overlayctl keygen`: creates this node's key before the daemon first starts.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create this node's key (DIR/node.key, mode 0600) and print its public key (the node ID).",
        discussion: "Creates DIR with mode 0700 if it is missing. Refuses to overwrite an existing key.")

    @Option(name: .long, help: ArgumentHelp("The state directory, as overlayd's --state-dir.", valueName: "dir"))
    var stateDir: String

    @Flag(name: .long, help: "Print {\"schema\": 1, \"id\": \"<hex>\", \"key_file\": \"<path>\"} instead of the bare ID.")
    var json = false

    func run() throws {
        let identity: NodeIdentity
        do {
            identity = try StateDirectory(path: stateDir).initialise()
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.unreachable)
        }
        if json {
            let path = stateDir.hasSuffix("/") ? stateDir + "node.key" : stateDir + "/node.key"
            let escaped = path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            print("{\"schema\":\(APISchema.version),\"id\":\"\(identity.publicKey.hex)\",\"key_file\":\"\(escaped)\"}")
        } else {
            print(identity.publicKey.hex)
        }
    }
}
