import ArgumentParser
import OverlayClient

/// `overlayctl selection [refresh]`: the gateway in use and why; or ask for a new round now.
struct SelectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selection",
        abstract: "Show the gateway this node uses and why, or ('refresh') start a selection round now.",
        discussion: """
            Without an action: the gateway in use, the last round's explanation, and its \
            candidates with their basis (probed: measured by this node in the round; shared: the \
            median of other nodes' recent measurements; unmeasured), latency, observers, clients \
            and score; then how many probes were sent and shared estimates used.

            'overlayctl selection refresh' asks overlayd to start a round now (POST \
            /v1/selection/refresh) and returns at once; follow the outcome with 'overlayctl \
            selection' or 'overlayctl events'. It is a write: run it as root or as the user \
            overlayd runs as, or overlayd answers 'forbidden' (exit status 3).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("'refresh' to start a selection round now; omit to show the selection.", valueName: "action"))
    var action: String?

    @Flag(name: .long, help: "Print the API's JSON (GET /v1/selection, or the answer of POST /v1/selection/refresh).")
    var json = false

    func validate() throws {
        if let action, action != "refresh" {
            throw ValidationError("unknown action '\(action)'; the only action is 'refresh'")
        }
    }

    func run() throws {
        if action == "refresh" {
            if json {
                let path = LocalAPIClient.refreshSelectionPath
                writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(path, method: "POST") })
            } else {
                let response = try connection.call { client throws(LocalAPIError) in try client.refreshSelection() }
                print(response.accepted ? "Reselection started: \(response.message)" : "No reselection started: \(response.message)")
            }
        } else if json {
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch("/v1/selection") })
        } else {
            let response = try connection.call { client throws(LocalAPIError) in try client.selection() }
            print(SelectionSummary.render(response), terminator: "")
        }
    }
}
