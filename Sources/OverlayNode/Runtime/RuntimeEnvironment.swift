import Foundation
import OverlayCore

/// The daemon's ``OverlayCore/AgentEnvironment``: datagrams go out through the UDP transport,
/// snapshots to the ``SnapshotWriter``, events to the logs, the metrics and the API's
/// subscribers, probes to the HTTP prober, and wake-ups to the one timer task.
///
/// A value made for each batch of directives by ``NodeRuntime/perform(_:)``, an actor-isolated
/// method that runs the interpreter synchronously; so every call below runs on the actor's
/// executor and reaches its state through `assumeIsolated`, which checks exactly that (and
/// would stop the process if the interpreter were ever run anywhere else).
struct RuntimeEnvironment: AgentEnvironment {
    /// The node whose directives these are.
    let runtime: NodeRuntime

    func transmit(_ bytes: Data, to endpoint: PeerEndpoint) {
        runtime.assumeIsolated { $0.send(bytes, to: endpoint) }
    }

    func persist(_ snapshot: PeerSnapshot) {
        runtime.assumeIsolated { $0.persist(snapshot) }
    }

    func publish(_ event: AgentEvent) {
        runtime.assumeIsolated { $0.publish(event) }
    }

    func probe(_ probe: GatewayProbe) {
        runtime.assumeIsolated { $0.launchProbe(probe) }
    }

    func schedule(wakeup: Instant?) {
        runtime.assumeIsolated { $0.arm(wakeup) }
    }
}
