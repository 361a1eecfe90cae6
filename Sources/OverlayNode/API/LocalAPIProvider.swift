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

/// What the gateway routes of the local API ask of the node: the gateways it knows, the
/// measurements it holds, its selection and its event stream.
///
/// Kept apart from ``LocalAPIProvider`` so that a node without gateway selection still serves the
/// other routes: ``APIRouter`` checks `provider as? any GatewayAPIProvider` and answers
/// `503 unavailable` on `/v1/gateways`, `/v1/observations`, `/v1/selection`,
/// `/v1/selection/refresh` and `/v1/events` when the provider does not conform.
public protocol GatewayAPIProvider: LocalAPIProvider {
    /// Every gateway this node knows, configured or announced, with the cloud's estimate of each.
    ///
    /// The router sorts the rows by ``GatewayInfo/id`` and fills in nothing else, so the
    /// provider returns them all, in any order.
    /// - Returns: one row per gateway.
    func gateways() async -> [GatewayInfo]

    /// The fresh observations this node holds: the latest of each (observer, gateway), its own
    /// included.
    ///
    /// The router filters (`gateway`, `observer`) and sorts the rows (by gateway, then observer),
    /// so the provider returns them all, in any order.
    /// - Returns: one row per (observer, gateway).
    func observations() async -> [ObservationInfo]

    /// The current selection and the last round's candidates.
    ///
    /// The router overwrites ``SelectionResponse/schema`` and ``SelectionResponse/version``;
    /// candidates are sent in the order given (candidate order).
    /// - Returns: the selection.
    func selection() async -> SelectionResponse

    /// Starts a selection round now (reason `requested`), without waiting for it to finish.
    ///
    /// Called only for callers allowed to write (the router checks first). The router overwrites
    /// ``RefreshResponse/schema`` and ``RefreshResponse/version`` and answers `202 Accepted`.
    /// - Returns: whether a round was started, and one sentence for the operator.
    func refreshSelection() async -> RefreshResponse

    /// A new subscription to the node's events, from now on (no backlog).
    ///
    /// Called once per `GET /v1/events` connection. The stream yields records in the order they
    /// happen and finishes when the node stops. When the client goes away the router stops
    /// iterating, which cancels the iteration and runs the stream's `onTermination`: the provider
    /// must drop the subscription there. A subscriber that cannot keep up should lose the oldest
    /// records (`.bufferingNewest(n)`), never block the node.
    /// - Returns: the stream of records.
    func events() async -> AsyncStream<EventRecord>
}

/// What `GET /v1/membership` asks of the node: its quorum view (epoch, members, quorum, pending
/// proposals).
///
/// Kept apart from ``LocalAPIProvider`` like ``GatewayAPIProvider``: ``APIRouter`` checks
/// `provider as? any MembershipAPIProvider` and answers `503 unavailable` when the provider does
/// not conform.
public protocol MembershipAPIProvider: LocalAPIProvider {
    /// The quorum view as this node knows it.
    ///
    /// The router overwrites ``MembershipResponse/schema`` and ``MembershipResponse/version``.
    /// - Returns: the view, or an empty one (`epoch` `nil`) while the node has not learned one.
    func membershipView() async -> MembershipResponse
}

/// A node that can reload its config file and keyring (`POST /v1/reload`).
public protocol ReloadAPIProvider: LocalAPIProvider {
    /// Re-reads the config file and the keyring and applies what changed; an invalid config or
    /// keyring is refused (``ReloadResponse/reloaded`` `false`, the reason in the message) and
    /// the old settings kept.
    func reload() async -> ReloadResponse
}

/// A node whose keys an operator can list and change (`/v1/keys...`, `overlayctl keys`).
public protocol KeysAPIProvider: LocalAPIProvider {
    /// The keys this node knows (keyring file and successors) and the standing of each.
    ///
    /// The router overwrites ``KeysResponse/schema`` and ``KeysResponse/version``.
    func keys() async -> KeysResponse

    /// Performs one change; called only for callers allowed to write (the router checks first).
    ///
    /// - Returns: the key table after the change, with one sentence on what was done, or why
    ///   the change was refused (HTTP 422, code `key_refused`).
    func changeKeys(_ change: KeyChange) async -> Result<KeysResponse, KeyChangeRefused>
}
