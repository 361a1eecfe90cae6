import Foundation
import OverlayAPI
import OverlayCore

extension NodeRuntime: LocalAPIProvider {
    /// `GET /v1/status`: who this node is and how many members it sees in each state.
    public func status() async -> StatusResponse {
        let membership = agent.membership
        let members = membership.members.values
        let uptime = ContinuousClock.now - startedAt
        return StatusResponse(
            version: version,
            node: NodeInfo(id: localID.hex, name: membership.localName, endpoint: membership.localEndpoint.description),
            uptimeSeconds: Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18,
            incarnation: membership.incarnation,
            members: MemberCounts(
                alive: 1 + members.count { $0.state == .alive }, suspect: members.count { $0.state == .suspect },
                failed: members.count { $0.state == .failed }, left: members.count { $0.state == .left }),
            localHealth: membership.localHealthScore,
            protocolPeriodMs: Int(membership.settings.probeInterval.milliseconds))
    }

    /// `GET /v1/peers`: every member, this node first, then by name.
    public func peers() async -> [PeerInfo] {
        let membership = agent.membership
        let now = WallClock.now()
        let local = PeerInfo(
            id: localID.hex, name: membership.localName, address: membership.localEndpoint.description,
            state: membership.hasLeft ? MemberState.left.rawValue : MemberState.alive.rawValue,
            incarnation: membership.incarnation, lastHeardSecondsAgo: 0, roundTripMs: nil, isLocal: true)
        let others = membership.sortedMembers
            .sorted { ($0.name, $0.id) < ($1.name, $1.id) }
            .map { member in
                PeerInfo(
                    id: member.id.hex, name: member.name, address: member.endpoint.description, state: member.state.rawValue,
                    incarnation: member.incarnation,
                    lastHeardSecondsAgo: member.lastHeard.map { max(0, Double((now - $0).milliseconds) / 1000) },
                    roundTripMs: member.roundTrip.map { Double($0.milliseconds) },
                    isLocal: false)
            }
        return [local] + others
    }

    /// `GET /metrics`: the Prometheus text exposition.
    public func metricsText() async -> String { metrics.render() }
}
