import OverlayAPI

/// The table `overlayctl keys` prints.
///
/// ```
/// ID            LABEL            FROM        UNTIL       STATE    SOURCE   NOTE
/// 3f9a1c2b4d5e  can-roca         —           2027-01-31  overlap  keyring  self, rolled to 71aa02d04c1e
/// 71aa02d04c1e  can-roca (rol…)  2027-01-17  —           active   roll     from 3f9a1c2b4d5e
/// ```
public enum KeyTable {
    /// The column titles, in order.
    public static let columns = ["ID", "LABEL", "FROM", "UNTIL", "STATE", "SOURCE", "NOTE"]

    /// Renders the keys as aligned columns, one line per key after the title line, in the
    /// order given (the API's: by ID).
    ///
    /// - Parameter keys: the rows.
    /// - Returns: the table text.
    public static func render(_ keys: [KeyInfo]) -> String {
        TextTable.render([columns] + keys.map(cells))
    }

    /// The cells of one row, in ``columns`` order.
    ///
    /// - Parameter key: the key.
    /// - Returns: short ID, label, from and until days (UTC), state, source, note.
    public static func cells(_ key: KeyInfo) -> [String] {
        var note: [String] = []
        if key.isLocal { note.append("self") }
        if key.isOperator { note.append("operator") }
        if let predecessor = key.predecessor { note.append("from " + PeerTable.shortID(predecessor)) }
        if let successor = key.successor { note.append("rolled to " + PeerTable.shortID(successor)) }
        return [
            PeerTable.shortID(key.id),
            key.label.map(PeerTable.displaySafe) ?? PeerTable.unknown,
            key.validFrom.map(day) ?? PeerTable.unknown,
            key.validUntil.map(day) ?? PeerTable.unknown,
            PeerTable.displaySafe(key.state),
            PeerTable.displaySafe(key.source),
            note.isEmpty ? PeerTable.unknown : note.joined(separator: ", "),
        ]
    }

    /// The UTC day of an RFC 3339 time (`2027-01-31T12:00:00Z` → `2027-01-31`).
    static func day(_ time: String) -> String { PeerTable.displaySafe(String(time.prefix(10))) }
}
