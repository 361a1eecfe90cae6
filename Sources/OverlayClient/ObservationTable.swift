import OverlayAPI

/// The table `overlayctl observations` prints: the fresh gateway measurements the daemon holds.
///
/// ```
/// OBSERVER  ID            GATEWAY        RESULT   LATENCY  TTFB    BYTES  HOPS  AGE
/// node-12   abababababab  10.1.2.3:3128  ok       41.0ms   12.0ms  512    2     12s
/// —         3c3c3c3c3c3c  10.1.2.3:3128  timeout  —        —       0      —     1m02s
/// ```
public enum ObservationTable {
    /// The column titles, in order.
    public static let columns = ["OBSERVER", "ID", "GATEWAY", "RESULT", "LATENCY", "TTFB", "BYTES", "HOPS", "AGE"]

    /// Renders observations as aligned columns, one line per observation after the title line.
    /// Rows keep the order given (the API's: by gateway, then observer).
    ///
    /// - Parameter observations: the rows.
    /// - Returns: the table text.
    public static func render(_ observations: [ObservationInfo]) -> String {
        TextTable.render([columns] + observations.map(cells))
    }

    /// The cells of one row, in ``columns`` order.
    ///
    /// - Parameter observation: the observation.
    /// - Returns: observer name, short ID, gateway, result (`ok` or the failure label), content
    ///   latency, time to first byte, bytes, the observer's hops, age.
    public static func cells(_ observation: ObservationInfo) -> [String] {
        let name = observation.observerName.flatMap { $0.isEmpty ? nil : PeerTable.displaySafe($0) }
        return [
            name ?? PeerTable.unknown,
            PeerTable.displaySafe(PeerTable.shortID(observation.observer)),
            PeerTable.displaySafe(observation.gateway),
            observation.ok ? "ok" : PeerTable.displaySafe(observation.failure ?? "failed"),
            observation.contentLatencyMs.map { DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            observation.ttfbMs.map { DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            String(observation.bytes),
            observation.hops.map(String.init) ?? PeerTable.unknown,
            DurationText.format(seconds: observation.ageSeconds),
        ]
    }
}
