import ArgumentParser
import Foundation
import OverlayClient

/// `overlayctl events`: membership, selection, view and quorum changes as they happen.
struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Follow this node's events: membership, gateway selection, view and quorum changes.",
        discussion: """
            Prints one line per event as it happens (GET /v1/events), until interrupted \
            (Ctrl-C), until --count events have been printed (exit status 0), or until overlayd \
            stops (exit status 1). There is no backlog: only events from now on are shown, so \
            following is the default and --follow may be omitted.

            With --json each line is the API's event record, byte for byte (NDJSON: one JSON \
            object per line).
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: [.short, .long], help: "Keep printing events as they happen (the default; accepted for familiarity).")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Exit after this many events.", valueName: "n"))
    var count: Int?

    @Flag(name: .long, help: "Print each event as the API's JSON line instead of a human line.")
    var json = false

    func validate() throws {
        if let count, count < 1 {
            throw ValidationError("--count must be at least 1")
        }
    }

    func run() throws {
        let limit = count
        let json = self.json
        var printed = 0
        let end = try connection.call { client throws(LocalAPIError) in
            try client.followEvents { event, line in
                if json {
                    writeRaw(line)
                } else {
                    FileHandle.standardOutput.write(Data(EventLine.render(event).utf8))
                }
                printed += 1
                if let limit, printed >= limit { return .stop }
                return .keepReading
            }
        }
        if end == .closedByDaemon {
            printError("overlayd closed the event stream on \(connection.client.socketPath) (it stopped or is restarting)")
            throw ExitCode(ExitStatus.unreachable)
        }
    }
}
