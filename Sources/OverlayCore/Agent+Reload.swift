/// Reloading the settings that can change while the node runs (SIGHUP, `POST /v1/reload`).
///
/// Membership, the quorum view, replay windows and the dissemination queue are untouched: a
/// reload never makes the node leave or rejoin.
extension Agent {
    /// How a reload changed gateway selection.
    public enum GatewayReload: Sendable, Equatable {
        /// The settings are the same; nothing was done.
        case unchanged
        /// Only allow, deny or max_hops changed; the selector kept its state and starts a round.
        case preferences
        /// Gateways, strategy, windows or the local gateway changed: gateway selection restarted
        /// with the new settings (its first round comes after the settings' start delay, and the
        /// cloud's observations arrive again by gossip and push-pull).
        case restarted
        /// Gateway selection was turned on or off.
        case toggled
    }

    /// Replaces the gateway settings.
    ///
    /// - Parameters:
    ///   - settings: the new settings; `nil` turns gateway selection off (items are then only relayed).
    ///   - signer: signs this node's observations and announcements (the agent's own identity).
    ///   - now: the current time.
    /// - Returns: what changed, and the directives to perform (a round's probes).
    public mutating func reloadGateways(
        _ settings: GatewayGossipSettings?, signer: any MessageSigner, now: Instant
    ) -> (GatewayReload, [AgentDirective]) {
        let current = gateways?.settings
        if current == settings { return (.unchanged, []) }
        if var old = current, let new = settings {
            old.preferences = new.preferences
            if old == new { return (.preferences, updateGatewayPreferences(new.preferences, now: now)) }
        }
        let toggled = (current == nil) != (settings == nil)
        gateways = settings.map { GatewayGossip(signer: signer, settings: $0, seed: rng.next(), now: now) }
        return (toggled ? .toggled : .restarted, [])
    }
}

