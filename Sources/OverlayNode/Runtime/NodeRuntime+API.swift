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
            protocolPeriodMs: Int(membership.settings.probeInterval.milliseconds),
            view: agent.quorumView?.view.map { view in
                let status = agent.quorumStatus
                return ViewSummary(
                    epoch: view.epoch, size: view.members.count, reachable: status.reachable,
                    quorum: status.hasQuorum, isMember: status.isMember)
            },
            suspicious: suspiciousMembers())
    }

    /// The keys ``OverlayCore/VerificationFailures`` reports now, named as the API shows them.
    func suspiciousMembers() -> [SuspiciousMember] {
        let now = WallClock.now()
        return agent.verificationFailures.suspicious(now: now).map { entry in
            let name = agent.membership.members[entry.key]?.name ?? agent.keyring.entries[entry.key]?.label ?? ""
            let ago = now - entry.record.lastAt
            return SuspiciousMember(
                id: entry.key.hex, name: name, badDatagrams: entry.record.badDatagrams, forgedItems: entry.record.forgedItems,
                lastFailureSecondsAgo: max(0, Double(ago.components.seconds) + Double(ago.components.attoseconds) / 1e18))
        }
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
    public func metricsText() async -> String {
        await recordTransportStatistics()
        return metrics.render()
    }
}

extension NodeRuntime: MembershipAPIProvider {
    /// `GET /v1/membership`: the quorum view, quorum, and pending proposals.
    public func membershipView() async -> MembershipResponse {
        let status = agent.quorumStatus
        let members = agent.membership.members
        guard let quorumView = agent.quorumView, let view = quorumView.view else {
            return MembershipResponse(
                version: version, epoch: nil, lineage: nil, members: [], quorum: false, reachable: 0, viewSize: 0,
                majority: 0, isMember: false, round: 0, proposals: [])
        }
        let infos = view.members.map { id -> ViewMemberInfo in
            if id == localID {
                return ViewMemberInfo(id: id.hex, name: agent.membership.localName, state: MemberState.alive.rawValue, reachable: true)
            }
            let member = members[id]
            return ViewMemberInfo(
                id: id.hex, name: member?.name, state: member?.state.rawValue,
                reachable: member.map { $0.state == .alive || $0.state == .suspect } ?? false)
        }
        let proposals = quorumView.pendingProposals.map {
            ProposalInfo(
                round: $0.round, add: $0.change.add.map(\.hex), remove: $0.change.remove.map(\.hex),
                endorsements: $0.voters.map(\.hex), needed: view.majority)
        }
        return MembershipResponse(
            version: version, epoch: view.epoch, lineage: view.lineage.map { String(format: "%02x", $0) }.joined(),
            members: infos, quorum: status.hasQuorum, reachable: status.reachable, viewSize: view.members.count,
            majority: view.majority, isMember: status.isMember, round: quorumView.round, proposals: proposals)
    }
}
