import ArgumentParser
import OverlayClient

/// `overlayctl peers`: the members of the view, as `serf members` lists them.
struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "List the members of the view, this node included.",
        discussion: """
            Columns: NAME, ID (first 12 hex digits of the public key), ADDRESS, STATE, INC \
            (incarnation), LAST HEARD (since the last verified datagram; 'self' for this node, \
            '—' for never), RTT (smoothed round trip of direct probes).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: [.customLong("state"), .customLong("status")],
        help: ArgumentHelp("Only members in these states: alive, suspect, failed, left (comma-separated, repeatable).", valueName: "states"))
    var states: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Only members whose name contains this text, or matches it as a glob when it has a '*'.", valueName: "pattern"))
    var name: String?

    @Flag(name: .long, help: "Print the API's JSON (GET /v1/peers) instead of the table.")
    var json = false

    func run() throws {
        let states = self.states.flatMap { $0.split(separator: ",").map(String.init) }
        if json {
            let path = LocalAPIClient.peersPath(state: states, name: name)
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(path) })
        } else {
            let name = self.name
            let response = try connection.call { client throws(LocalAPIError) in try client.peers(state: states, name: name) }
            print(PeerTable.render(response.peers), terminator: "")
        }
    }
}
