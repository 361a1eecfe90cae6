import ArgumentParser
import OverlayClient

/// `overlayctl observations`: the gateway measurements the node holds, its own and the cloud's.
struct ObservationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observations",
        abstract: "List the fresh gateway measurements this node holds, its own and those gossiped to it.",
        discussion: """
            One row per observer and gateway (the latest measurement). Columns: OBSERVER (name, \
            '—' when not a known member), ID (first 12 hex digits), GATEWAY, RESULT (ok, or why \
            the probe failed), LATENCY (to the last byte), TTFB (to the first byte), BYTES, HOPS \
            (the observer's, when it measured), AGE.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Only the measurements of this gateway (its ID, as 'overlayctl gateways' shows it).", valueName: "id"))
    var gateway: String?

    @Option(name: .long, help: ArgumentHelp("Only the measurements of observers whose ID starts with these hex digits.", valueName: "prefix"))
    var observer: String?

    @Flag(name: .long, help: "Print the API's JSON (GET /v1/observations) instead of the table.")
    var json = false

    func run() throws {
        let gateway = self.gateway
        let observer = self.observer
        if json {
            let path = LocalAPIClient.observationsPath(gateway: gateway, observer: observer)
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(path) })
        } else {
            let response = try connection.call { client throws(LocalAPIError) in
                try client.observations(gateway: gateway, observer: observer)
            }
            print(ObservationTable.render(response.observations), terminator: "")
        }
    }
}
