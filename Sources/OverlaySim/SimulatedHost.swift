import Foundation
import OverlayCore

/// The simulator's ``AgentEnvironment`` for one node in one step of a ``SimulatedCloud``:
/// datagrams go onto the simulated network, snapshots are kept as the daemon's state
/// directory would keep them, member changes and refusals go into the step's record and the
/// trace, probes to the cloud's ``SimulatedCloud/prober``, decided rounds to its
/// ``SimulatedCloud/decisionTap``, and wake-ups into the event queue on the node's own clock.
///
/// Made for each batch of directives by ``SimulatedCloud/handle(_:from:into:)``; the agent is
/// not borrowed while it runs, so it may read and change the cloud freely.
struct SimulatedHost: AgentEnvironment {
    /// The cloud.
    unowned let cloud: SimulatedCloud
    /// The node whose directives these are.
    let node: Int
    /// What the step reports so far.
    var record: StepRecord

    func transmit(_ bytes: Data, to endpoint: PeerEndpoint) {
        cloud.transmit(bytes, from: node, to: endpoint)
    }

    func persist(_ snapshot: PeerSnapshot) {
        cloud.keep(snapshot, of: node)
    }

    mutating func publish(_ event: AgentEvent) {
        switch event {
        case .memberChanged(let change):
            record.changes.append(change)
            cloud.absorb(change, reportedBy: node)
        case .rejected(let reason):
            record.rejections.append(reason)
        case .selectionDecided(let decision):
            cloud.decisionTap?(node, decision)
        case .viewChanged, .quorumChanged:
            // For the daemon's logs and API; the invariants read the view from the agents.
            break
        }
    }

    func probe(_ probe: GatewayProbe) {
        cloud.requestProbe(probe, by: node)
    }

    func schedule(wakeup: Instant?) {
        cloud.scheduleWake(node, at: wakeup)
    }
}
