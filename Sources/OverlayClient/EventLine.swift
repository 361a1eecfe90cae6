import Foundation
import OverlayAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one human line `overlayctl events` prints per event.
///
/// ```
/// 2024-05-01T10:00:00.123Z  member     gw-raval (3c3c3c3c3c3c): alive -> suspect, incarnation 7
/// 2024-05-01T10:00:04.500Z  selection  gw-sants -> gw-raval (periodic): Switched to gw-raval: ...
/// 2024-05-01T10:01:00.000Z  view       epoch 4, 5 members
/// 2024-05-01T10:01:02.000Z  quorum     lost: 2 of 5 members reachable
/// ```
public enum EventLine {
    /// Renders one event as a line ending in a newline: the time in UTC, the type padded to the
    /// longest known type, and what happened. An event of a type this client does not know is
    /// still printed, with a hint to use `--json`.
    ///
    /// - Parameter event: the record.
    /// - Returns: the line.
    public static func render(_ event: EventRecord) -> String {
        let type = PeerTable.displaySafe(event.type)
        let padded = type + String(repeating: " ", count: max(0, 9 - type.count))
        return "\(timestamp(milliseconds: event.atMs))  \(padded)  \(describe(event))\n"
    }

    /// What happened, without the time and type.
    ///
    /// - Parameter event: the record.
    /// - Returns: one phrase.
    public static func describe(_ event: EventRecord) -> String {
        switch event.type {
        case "member":
            guard let member = event.member else { break }
            let who = "\(member.name.isEmpty ? PeerTable.unknown : PeerTable.displaySafe(member.name)) (\(PeerTable.displaySafe(PeerTable.shortID(member.id))))"
            let change: String
            switch (member.from, member.to) {
            case (nil, let to?): change = "joined as \(PeerTable.displaySafe(to))"
            case (let from?, nil): change = "removed from the view (was \(PeerTable.displaySafe(from)))"
            case (let from?, let to?): change = "\(PeerTable.displaySafe(from)) -> \(PeerTable.displaySafe(to))"
            case (nil, nil): change = "changed"
            }
            return "\(who): \(change), incarnation \(member.incarnation)"
        case "selection":
            guard let selection = event.selection else { break }
            let from = selection.from.map(PeerTable.displaySafe) ?? "none"
            let to = selection.to.map(PeerTable.displaySafe) ?? "none"
            let explanation = selection.explanation.isEmpty ? "" : ": " + PeerTable.displaySafe(selection.explanation)
            return "\(from) -> \(to) (\(SelectionSummary.reasonText(selection.reason)))\(explanation)"
        case "view":
            guard let view = event.view else { break }
            return "epoch \(view.epoch), \(view.members.count) member\(view.members.count == 1 ? "" : "s")"
        case "quorum":
            guard let quorum = event.quorum else { break }
            return "\(quorum.hasQuorum ? "regained" : "lost"): \(quorum.reachable) of \(quorum.viewSize) members reachable"
        default:
            return "an event of a type this overlayctl does not know; use --json to see it"
        }
        return "an event without its \(PeerTable.displaySafe(event.type)) details; use --json to see it"
    }

    /// Unix time in milliseconds as ISO 8601 in UTC with milliseconds, `2024-05-01T10:00:00.123Z`.
    ///
    /// - Parameter milliseconds: milliseconds since the Unix epoch.
    /// - Returns: the timestamp.
    public static func timestamp(milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return String(milliseconds) }
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
