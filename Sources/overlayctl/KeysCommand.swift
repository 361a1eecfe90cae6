import ArgumentParser
import OverlayAPI
import OverlayClient

/// `overlayctl keys`: list, add, roll, retire and revoke keys (Docs/operations.md, "Rotating keys").
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List the keys this node admits, and add, roll, retire or revoke them.",
        discussion: """
            Without a subcommand, lists the keys: those of the keyring file and the successors \
            learned from key rolls. STATE is pending (valid from a later day), active, overlap \
            (rolled over, still admitted until UNTIL), retired or revoked. The changes are writes: \
            run them as root or as the user overlayd runs as.
            """,
        subcommands: [ListKeys.self, AddKey.self, RollKey.self, RetireKey.self, RevokeKey.self],
        defaultSubcommand: ListKeys.self)

    /// `overlayctl keys list`.
    struct ListKeys: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the keys (the default).")

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Print the API's JSON (GET /v1/keys) instead of the table.")
        var json = false

        func run() throws {
            if json {
                writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(LocalAPIClient.keysPath) })
                return
            }
            let response = try connection.call { client throws(LocalAPIError) in try client.keys() }
            print(KeyTable.render(response.keys), terminator: "")
        }
    }

    /// `overlayctl keys add KEY`.
    struct AddKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "List a key in this node's keyring file (or replace its line) and reload it.",
            discussion: "Only this node's file changes: add the key to every node's keyring (the file is public).")

        @Argument(help: ArgumentHelp("The public key, 64 hex digits ('overlayd id' prints it).", valueName: "key"))
        var key: String

        @Option(name: .long, help: ArgumentHelp("A name for it (one word).", valueName: "name"))
        var label: String?

        @Option(name: .long, help: ArgumentHelp("Admitted from this UTC day on.", valueName: "YYYY-MM-DD"))
        var from: String?

        @Option(name: .long, help: ArgumentHelp("Admitted through this UTC day.", valueName: "YYYY-MM-DD"))
        var until: String?

        @Flag(name: .customLong("operator"), help: "Let this key revoke any key cloud-wide (role=operator).")
        var isOperator = false

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Print the API's JSON (the answer of POST /v1/keys/add).")
        var json = false

        func run() throws {
            try change(LocalAPIClient.keysChangePath("add", [
                ("key", key), ("label", label), ("from", from), ("until", until), ("role", isOperator ? "operator" : nil),
            ]), connection: connection, json: json)
        }
    }

    /// `overlayctl keys roll`.
    struct RollKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "roll",
            abstract: "Roll this node's key: a new key, announced under the old one; both admitted for the overlap.",
            discussion: """
                The daemon writes the new key to node.key.next, signs the roll with the old key and \
                gossips it; every member admits the new key from then on. About 10 s later the node \
                switches: it leaves under its old key and rejoins under the new one. The old key \
                stays admitted until the overlap ends, then retires everywhere.
                """)

        @Option(name: .customLong("overlap-days"), help: ArgumentHelp("How long the old key stays admitted (1-365 days; default 14).", valueName: "days"))
        var overlapDays: Int?

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Print the API's JSON (the answer of POST /v1/keys/roll).")
        var json = false

        func run() throws {
            try change(LocalAPIClient.keysChangePath("roll", [("overlap_days", overlapDays.map(String.init))]), connection: connection, json: json)
        }
    }

    /// `overlayctl keys retire KEY`.
    struct RetireKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire",
            abstract: "End a listed key's validity on this node at once (its line gets until= yesterday).",
            discussion: "Only this node's keyring file changes; to refuse a key everywhere, revoke it.")

        @Argument(help: ArgumentHelp("The public key, 64 hex digits.", valueName: "key"))
        var key: String

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Print the API's JSON (the answer of POST /v1/keys/retire).")
        var json = false

        func run() throws {
            try change(LocalAPIClient.keysChangePath("retire", [("key", key)]), connection: connection, json: json)
        }
    }

    /// `overlayctl keys revoke KEY`.
    struct RevokeKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke",
            abstract: "Revoke a key cloud-wide: every member refuses it and removes its member.",
            discussion: """
                Signed by this node's key, which must be the revoked key itself or an operator key \
                (role=operator in the keyring file). Successors rolled from the key are revoked too, \
                unless a keyring file lists them itself.
                """)

        @Argument(help: ArgumentHelp("The public key, 64 hex digits.", valueName: "key"))
        var key: String

        @OptionGroup var connection: ConnectionOptions

        @Flag(name: .long, help: "Print the API's JSON (the answer of POST /v1/keys/revoke).")
        var json = false

        func run() throws {
            try change(LocalAPIClient.keysChangePath("revoke", [("key", key)]), connection: connection, json: json)
        }
    }
}

/// Sends one key change and prints the daemon's sentence and the table after it (or the JSON).
private func change(_ target: String, connection: ConnectionOptions, json: Bool) throws {
    if json {
        writeRaw(try connection.call { client throws(LocalAPIError) in try client.fetch(target, method: "POST") })
        return
    }
    let response = try connection.call { client throws(LocalAPIError) in try client.changeKeys(target) }
    print(response.message)
    print(KeyTable.render(response.keys), terminator: "")
}
