import OverlayAPI

/// What the local API asks of the node: read-only snapshots of its state.
///
/// The node's actor conforms (or a small adapter around it does); tests use a fake. The API
/// server never reaches into the core itself, so it cannot hold the node's state across an
/// `await`: each call returns a value built at one instant.
public protocol LocalAPIProvider: Sendable {
    /// Who this node is and a summary of its membership view.
    ///
    /// - Returns: a complete status response; ``APIRouter`` sends it as it is.
    func status() async -> StatusResponse

    /// Every member of the view, this node included (with ``PeerInfo/isLocal`` set).
    ///
    /// The router filters and sorts the rows, so the provider returns them all, in any order.
    /// - Returns: one row per member.
    func peers() async -> [PeerInfo]

    /// The node's metrics in the Prometheus text exposition format (version 0.0.4).
    ///
    /// - Returns: the text `GET /metrics` answers with.
    func metricsText() async -> String
}
