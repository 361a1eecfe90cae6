import ArgumentParser
import OverlayAPI
import OverlayClient

/// `overlayctl reload`: re-read the config file and the keyring (as SIGHUP does).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make overlayd re-read its config file and keyring without leaving the cloud.",
        discussion: """
            The same as 'systemctl reload overlayd' (SIGHUP), but it waits for the answer: what is \
            now in force (the keyring, the gateways, strategy and preferences), and which changed \
            keys only take effect at the next restart. An invalid config or keyring is refused with \
            the reason; the old one stays in force and the exit status is 3. It is a write: run it as \
            root or as the user overlayd runs as.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Print the API's JSON (the answer of POST /v1/reload).")
    var json = false

    func run() throws {
        if json {
            writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(LocalAPIClient.reloadPath, method: "POST") })
            return
        }
        let response = try connection.call { client throws(LocalAPIError) in try client.reload() }
        print("Reloaded: \(response.message)")
    }
}
