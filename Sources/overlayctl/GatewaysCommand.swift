import ArgumentParser
import OverlayClient

/// `overlayctl gateways`: every gateway the node knows, with the cloud's estimate of each.
struct GatewaysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateways",
        abstract: "List the Internet gateways this node knows, configured or announced.",
        discussion: """
            Columns: GATEWAY (its ID), PROXY (host:port), HOPS (radio hops from this node), \
            ESTIMATE (the cloud's median content latency through it, adjusted for hops), \
            OBSERVERS (distinct nodes that measured it recently, and how many saw it fail), AGE \
            (of the newest measurement), LOAD (clients/capacity; '—' when not advertised), STATUS \
            (current, eligible, or excluded: why).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the API's JSON (GET /v1/gateways) instead of the table.")
    var json = false

    func run() throws {
        if json {
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch("/v1/gateways") })
        } else {
            let response = try connection.call { client throws(LocalAPIError) in try client.gateways() }
            print(GatewayTable.render(response.gateways), terminator: "")
        }
    }
}
