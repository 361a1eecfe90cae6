import ArgumentParser
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

    func run() throws {
        let identity: NodeIdentity
        do {
            identity = try StateDirectory(path: stateDir).initialise()
        } catch {
            printError("\(error)")
            throw ExitCode(ExitStatus.unreachable)
        }
        print(identity.publicKey.hex)
    }
}
