import Foundation
import OverlayWire

/// The agent's side of the quorum view: it feeds the view SWIM's state, votes in and out, and
/// the view stated in push-pulls.
extension Agent {
    /// The quorum status (no view: ``QuorumStatus/none``).
    public var quorumStatus: QuorumStatus { quorumView?.status ?? .none }

    mutating func receiveViewVote(_ item: SignedItem, now: Instant) -> [AgentDirective] {
        guard quorumView != nil else {
            relay(item)
            return []
        }
        guard let directives = quorumView!.onVote(item, now: now) else {
            counters.rejected[.invalidItem, default: 0] += 1
            return [.rejected(.invalidItem)]
        }
        return performView(directives)
    }

    /// The view votes a push-pull carries.
    func viewSyncItems() -> [SignedItem] { quorumView?.syncItems ?? [] }

    mutating func receiveSyncView(_ sync: Overlayd_V1_Sync, from sender: NodeID, now: Instant) -> [AgentDirective] {
        guard quorumView != nil, sync.viewEpoch > 0 else { return [] }
        let members = sync.viewMembers.compactMap { NodeID(bytes: $0) }
        guard members.count == sync.viewMembers.count else { return [] }
        let directives = quorumView!.onSyncView(
            from: sender, epoch: sync.viewEpoch, lineage: sync.viewLineage, size: Int(sync.viewSize), members: members)
        return performView(directives)
    }

    /// A packet whose header states this node's committed view (epoch and lineage), so that a
    /// receiver behind it learns so within one probe interval.
    func viewStampedPacket() -> Overlayd_V1_Packet {
        var packet = Overlayd_V1_Packet()
        if let view = quorumView?.view {
            packet.viewEpoch = view.epoch
            packet.viewLineage = view.lineage
        }
        return packet
    }

    /// Reads the view a sender stated in its datagram's header. When it is newer than this
    /// node's in the same lineage, this node stops reporting quorum at once and asks the sender
    /// for its view with a push-pull (at most once a second), instead of waiting for the next
    /// periodic push-pull to bring it.
    mutating func noteStatedView(of packet: Overlayd_V1_Packet, from sender: NodeID, now: Instant) -> [AgentDirective] {
        guard quorumView != nil, packet.viewEpoch > 0 else { return [] }
        let wasBehind = quorumView!.newerEpochSeen != nil
        guard quorumView!.noteStatedView(epoch: packet.viewEpoch, lineage: packet.viewLineage) else { return [] }
        // Every datagram from a member ahead says so again; the status changes only the first time.
        var out = wasBehind ? [] : evaluateView(now: now)
        if lastCatchUpAt.map({ now - $0 >= .seconds(1) }) ?? true, let member = membership.members[sender] {
            lastCatchUpAt = now
            // A catch-up is about the view: the gateway items (up to 512 of them in a large
            // cloud) are left to the regular push-pull and to gossip.
            out += sync(to: Destination(id: sender, endpoint: member.endpoint), replyWanted: true, gatewayItems: false, now: now)
        }
        return out
    }

    mutating func evaluateView(now: Instant) -> [AgentDirective] {
        guard quorumView != nil else { return [] }
        let observations = membership.sortedMembers.map {
            MemberObservation(
                id: $0.id, state: $0.state, accusers: membership.accuserCount(of: $0.id), stateSince: $0.stateSince,
                heardSinceStateChange: ($0.lastHeard ?? Instant(milliseconds: .min)) >= $0.stateSince)
        }
        return performView(quorumView!.evaluate(members: observations, now: now))
    }

    private mutating func performView(_ directives: [QuorumViewDirective]) -> [AgentDirective] {
        var out: [AgentDirective] = []
        var persist = false
        for directive in directives {
            switch directive {
            case .broadcast(let item):
                markProcessed(item)
                relay(item)
            case .viewChanged(let view, let previous):
                out.append(.viewChanged(view, previous: previous))
            case .quorumChanged(let status):
                out.append(.quorumChanged(status))
            case .persist:
                persist = true
            }
        }
        if persist { out.append(.persist(snapshot)) }
        return out
    }
}
