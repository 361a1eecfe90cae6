import OverlayAPI

/// The table `overlayctl gateways` prints: every gateway the daemon knows, with the cloud's
/// estimate of it.
///
/// ```
/// GATEWAY        PROXY          HOPS  ESTIMATE  OBSERVERS     AGE  LOAD  STATUS
/// 10.1.2.3:3128  10.1.2.3:3128  2     41.0ms    3             12s  4/32  current
/// gw-raval       10.9.0.1:8888  5     10s       2 (2 failed)  40s  0/—   eligible
/// gw-poble       10.9.0.7:3128  —     —         0             —    1/8   excluded: denied by preferences
/// ```
public enum GatewayTable {
    /// The column titles, in order.
    public static let columns = ["GATEWAY", "PROXY", "HOPS", "ESTIMATE", "OBSERVERS", "AGE", "LOAD", "STATUS"]

    /// Renders gateways as aligned columns, one line per gateway after the title line. Rows
    /// keep the order given (the API's: by ID).
    ///
    /// - Parameter gateways: the rows.
    /// - Returns: the table text.
    public static func render(_ gateways: [GatewayInfo]) -> String {
        TextTable.render([columns] + gateways.map(cells))
    }

    /// The cells of one row, in ``columns`` order.
    ///
    /// - Parameter gateway: the gateway.
    /// - Returns: ID, proxy, hops, estimate, observers, age of the newest measurement, load,
    ///   status.
    public static func cells(_ gateway: GatewayInfo) -> [String] {
        [
            PeerTable.displaySafe(gateway.id),
            PeerTable.displaySafe(gateway.proxy),
            gateway.hops.map(String.init) ?? PeerTable.unknown,
            gateway.estimateMs.map { DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            gateway.failures > 0 ? "\(gateway.observers) (\(gateway.failures) failed)" : String(gateway.observers),
            gateway.ageSeconds.map { DurationText.format(seconds: $0) } ?? PeerTable.unknown,
            load(clients: gateway.clients, capacity: gateway.capacity),
            status(gateway),
        ]
    }

    /// The LOAD cell: `clients/capacity`, with `—` for a capacity that is not advertised.
    ///
    /// - Parameters:
    ///   - clients: nodes using the gateway.
    ///   - capacity: its advertised capacity, or `nil`.
    /// - Returns: the cell text.
    public static func load(clients: Int, capacity: Int?) -> String {
        "\(clients)/" + (capacity.map(String.init) ?? PeerTable.unknown)
    }

    /// The STATUS cell: `current` for the gateway in use, `eligible` for one the selector may
    /// choose, `excluded: REASON` for one the preferences or the hop horizon rule out.
    ///
    /// - Parameter gateway: the gateway.
    /// - Returns: the cell text.
    public static func status(_ gateway: GatewayInfo) -> String {
        let excluded = "excluded: " + PeerTable.displaySafe(gateway.excludedReason ?? "not eligible")
        if gateway.isCurrent { return gateway.eligible ? "current" : "current, " + excluded }
        return gateway.eligible ? "eligible" : excluded
    }
}
