/// What gateway selection asks of the shell (``AgentDirective/gateway(_:)``).
public enum GatewayDirective: Sendable, Equatable {
    /// Run this HTTP probe through the gateway's proxy, then report with
    /// ``Agent/onProbeResult(_:now:)``. A probe that cannot run at all is reported as a failure.
    case probe(GatewayProbe)
    /// A selection round was decided: log it, count it, switch the local proxy setting, tell
    /// event subscribers. The decision explains itself.
    case decided(SelectionDecision)
}

/// Gateway items (observations, gateway and selection announcements) and the collaborative
/// RIMO selector, wired into the agent: received items go to ``GatewayGossip``, its own items
/// are disseminated like any other, and its probes and decisions leave as
/// ``AgentDirective/gateway(_:)``.
///
/// Without gateway settings (``gateways`` is `nil`) gateway items are only relayed, as a node
/// of an older version would.
extension Agent {
    /// Handles a verified gateway item.
    mutating func receiveGatewayItem(_ item: SignedItem, now: Instant) -> [AgentDirective] {
        guard gateways != nil else {
            relay(item)
            return []
        }
        let isMember = isLiveMember(item.origin)
        // Mutated in place: a copy taken out and written back would share every table the
        // gossip holds, and the first write would copy each of them whole.
        let (outcome, outputs) = gateways!.receive(item, isMember: isMember, now: now)
        switch outcome {
        case .accepted:
            relay(item)
        case .invalid:
            counters.rejected[.invalidItem, default: 0] += 1
            return [.rejected(.invalidItem)] + performGateway(outputs)
        default:
            break
        }
        return performGateway(outputs)
    }

    /// The gateway items a push-pull carries (selections, announcements, fresh observations).
    func gatewaySyncItems() -> [SignedItem] { gateways?.syncItems ?? [] }

    /// Gateway timers: housekeeping, announcements, overdue probes, due rounds.
    mutating func gatewayTick(now: Instant) -> [AgentDirective] {
        guard let due = gateways?.nextDeadline, due <= now else { return [] }
        let membership = self.membership
        let outputs = gateways!.onTick(now: now, cloudSize: membership.liveCount) { id in
            Self.isLive(id, in: membership)
        }
        return performGateway(outputs)
    }

    /// Takes in the result of a probe the shell ran for a ``GatewayDirective/probe(_:)``.
    ///
    /// The result becomes this node's signed observation (a failure too) and is gossiped; the
    /// round is decided once its last probe reports.
    public mutating func onProbeResult(_ result: ProbeResult, now: Instant) -> [AgentDirective] {
        guard gateways != nil else { return [] }
        let outputs = gateways!.onProbeResult(result, now: now)
        return performGateway(outputs)
    }

    /// Starts a reselection now (or right after the pending round): an operator's or a local
    /// service's request (`POST /v1/selection/refresh`).
    public mutating func requestReselection(now: Instant) -> [AgentDirective] {
        guard gateways != nil else { return [] }
        let outputs = gateways!.requestReselection(now: now)
        return performGateway(outputs)
    }

    /// Replaces the user's gateway preferences; a change starts a round.
    public mutating func updateGatewayPreferences(_ preferences: GatewayPreferences, now: Instant) -> [AgentDirective] {
        guard gateways != nil else { return [] }
        let outputs = gateways!.updatePreferences(preferences, now: now)
        return performGateway(outputs)
    }

    /// Replaces the hop table after a good read of the routing daemon (the shell keeps the
    /// last good one, ``HopTableCache``).
    public mutating func updateHops(_ table: HopTable) {
        gateways?.updateHops(table)
    }

    private func isLiveMember(_ id: NodeID) -> Bool { Self.isLive(id, in: membership) }

    private static func isLive(_ id: NodeID, in membership: Membership) -> Bool {
        if id == membership.localID { return true }
        guard let member = membership.members[id] else { return false }
        return member.state == .alive || member.state == .suspect
    }

    private mutating func performGateway(_ outputs: [GatewayGossip.Output]) -> [AgentDirective] {
        var out: [AgentDirective] = []
        for output in outputs {
            switch output {
            case .broadcast(let item):
                markProcessed(item)
                relay(item)
            case .probe(let probe):
                out.append(.gateway(.probe(probe)))
            case .decided(let decision):
                out.append(.gateway(.decided(decision)))
            }
        }
        return out
    }
}
