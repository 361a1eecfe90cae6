import OverlayAPI

/// The table `overlayctl peers` prints, in the manner of `serf members`.
///
/// ```
/// NAME     ID            ADDRESS         STATE    INC  LAST HEARD  RTT
/// gw-sants 3f9a1c2b4d5e  10.1.2.3:7946   alive    4    self        —
/// node-12  8c01d2e3f4a5  10.1.2.12:7946  suspect  2    3.1s        41.0ms
/// ```
public enum PeerTable {
    /// The column titles, in order.
    public static let columns = ["NAME", "ID", "ADDRESS", "STATE", "INC", "LAST HEARD", "RTT"]

    /// What a table shows for a value that is unknown.
    public static let unknown = "—"

    /// Renders peers as aligned columns separated by two spaces, one line per peer after the
    /// title line, each ending in a newline. Rows keep the order given (the API's: this node
    /// first, then by name).
    ///
    /// - Parameter peers: the rows.
    /// - Returns: the table text.
    public static func render(_ peers: [PeerInfo]) -> String {
        TextTable.render([columns] + peers.map(cells))
    }

    /// The cells of one row, in ``columns`` order.
    ///
    /// - Parameter peer: the member.
    /// - Returns: name, short ID, address, state, incarnation, last heard, round trip.
    public static func cells(_ peer: PeerInfo) -> [String] {
        [
            peer.name.isEmpty ? unknown : displaySafe(peer.name),
            displaySafe(shortID(peer.id)),
            displaySafe(peer.address),
            displaySafe(peer.state),
            String(peer.incarnation),
            lastHeard(peer),
            peer.roundTripMs.map { DurationText.format(milliseconds: $0) } ?? unknown,
        ]
    }

    /// Text as a terminal may show it: control, format and separator characters become `?`.
    ///
    /// Names and addresses are chosen by other members; without this, a member announcing a name
    /// with escape sequences or a newline could rewrite an operator's screen or forge table rows.
    /// - Parameter text: text from the API.
    /// - Returns: the text with every unsafe character replaced.
    public static func displaySafe(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                out.append("?")
            default:
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The first 12 hex characters of an ID, enough to tell the members of one cloud apart.
    ///
    /// - Parameter id: the full hex ID.
    /// - Returns: its short form.
    public static func shortID(_ id: String) -> String {
        String(id.prefix(12))
    }

    /// The LAST HEARD cell: `self` for this node, `—` for never, else a short duration (`0.4s`).
    ///
    /// - Parameter peer: the member.
    /// - Returns: the cell text.
    public static func lastHeard(_ peer: PeerInfo) -> String {
        if peer.isLocal { return "self" }
        guard let seconds = peer.lastHeardSecondsAgo else { return unknown }
        return DurationText.format(seconds: seconds)
    }
}
