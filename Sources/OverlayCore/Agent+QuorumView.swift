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
