import OverlayAPI

/// The human summary `overlayctl status` prints.
///
/// ```
/// node         gw-sants (3f9a1c2b4d5e)
/// id           3f9a1c2b4d5e...
/// endpoint     10.1.2.3:7946
/// daemon       overlayd 0.1.0, API schema 1, up 2h05m
/// incarnation  4
/// members      12: 10 alive, 1 suspect, 1 failed, 0 left
/// health       0 (protocol period 1000 ms)
/// view         epoch 5, 12 members, quorum yes (11/12 reachable)
/// ```
public enum StatusSummary {
    /// Renders a status as labelled lines, each ending in a newline.
    ///
    /// - Parameter status: the daemon's status.
    /// - Returns: the summary text.
    public static func render(_ status: StatusResponse) -> String {
        let members = status.members
        let health = status.localHealth == 0 ? "0, healthy" : "\(status.localHealth), degraded: probing more slowly"
        let lines: [(String, String)] = [
            ("node", "\(PeerTable.displaySafe(status.node.name)) (\(PeerTable.shortID(status.node.id)))"),
            ("id", PeerTable.displaySafe(status.node.id)),
            ("endpoint", PeerTable.displaySafe(status.node.endpoint)),
            ("daemon", "overlayd \(PeerTable.displaySafe(status.version)), API schema \(status.schema), up \(DurationText.format(seconds: status.uptimeSeconds))"),
            ("incarnation", String(status.incarnation)),
            ("members", "\(members.total): \(members.alive) alive, \(members.suspect) suspect, \(members.failed) failed, \(members.left) left"),
            ("health", "\(health) (protocol period \(status.protocolPeriodMs) ms)"),
            ("view", viewLine(status.view)),
        ]
        let width = lines.map(\.0.count).max() ?? 0
        func viewLine(_ view: ViewSummary?) -> String {
            guard let view else { return "none yet (joining: waiting to learn the view from a member)" }
            let quorum = view.quorum ? "yes" : (view.isMember ? "NO: this side is not a majority" : "no (not a member yet)")
            return "epoch \(view.epoch), \(view.size) members, quorum \(quorum) (\(view.reachable)/\(view.size) reachable)"
        }
        return lines.map { label, value in
            label + String(repeating: " ", count: width - label.count + 2) + value + "\n"
        }.joined()
    }
}
