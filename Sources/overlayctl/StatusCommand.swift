import ArgumentParser
import OverlayClient

/// `overlayctl status`: who this node is and a summary of its view.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show this node's identity, uptime and member counts.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the API's JSON (GET /v1/status) instead of the summary.")
    var json = false

    func run() throws {
        if json {
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch("/v1/status") })
        } else {
            let status = try connection.call { client throws(LocalAPIError) in try client.status() }
            print(StatusSummary.render(status), terminator: "")
        }
    }
}
