/// Why a known gateway is not eligible for this node's selection (RIMO Algorithm 1's filter,
/// plus what the routing daemon says), so that the local API and `overlayctl gateways` show
/// the selector's own reason instead of deciding it again.
public enum GatewayExclusion: Sendable, Hashable, CustomStringConvertible {
    /// The routing daemon reports no route to the gateway (``HopTable/isUnreachable(_:)``).
    case unreachable
    /// The user's deny list names it (`gateways.deny`).
    case denied
    /// The user's allow list is not empty and does not name it (`gateways.allow`).
    case notAllowed
    /// It is farther than the selection horizon (MaxHOPS, or the user's smaller `max_hops`),
    /// whose value is given.
    case beyondHorizon(Int)

    public var description: String {
        switch self {
        case .unreachable: "unreachable: the routing daemon reports no route"
        case .denied: "denied by gateways.deny"
        case .notAllowed: "not in gateways.allow"
        case .beyondHorizon(let horizon): "beyond the \(horizon)-hop horizon"
        }
    }
}

extension GatewaySelector {
    /// The selection horizon in force: MaxHOPS, or the user's smaller `max_hops`.
    public var horizon: Int { min(settings.maxHops, preferences.maxHops ?? settings.maxHops) }

    /// Why `gateway` is not eligible, checked in this order: unreachable, denied, not allowed,
    /// beyond the horizon (an unknown hop count counts as MaxHOPS, as in
    /// ``Rimo/filter(_:preferences:maxHops:hops:)``); `nil` when it is eligible.
    public func exclusion(of gateway: Gateway) -> GatewayExclusion? {
        if hopTable.isUnreachable(gateway.hopKey) { return .unreachable }
        if preferences.deny.contains(gateway.id) { return .denied }
        if !preferences.admits(gateway.id) { return .notAllowed }
        if max(0, hops(of: gateway) ?? settings.maxHops) > horizon { return .beyondHorizon(horizon) }
        return nil
    }
}
