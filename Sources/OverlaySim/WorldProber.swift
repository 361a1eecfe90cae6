import Foundation
import OverlayCore

/// Answers the gateway probes of a ``SimulatedCloud``'s agents.
///
/// The cloud calls ``measure(_:from:at:)`` when an agent's probe starts, and hands the result
/// back to that agent (``Agent/onProbeResult(_:now:)``) once the returned duration has passed.
public protocol SimulatedGatewayProber: AnyObject {
    /// One probe of `probe`'s gateway by node `node`, starting at `time`.
    ///
    /// - Returns: what the probe measured, and how long it took (its content latency, or the
    ///   probe timeout for a failure).
    func measure(_ probe: GatewayProbe, from node: Int, at time: SimTime) -> (result: ProbeResult, duration: Duration)
}

/// A prober backed by ``GatewayWorld``: a probe sees the gateway's true content latency at
/// that moment, with the load it has then, the node's hop distance added, and the world's
/// per-request noise and failures.
///
/// The load is the number of simulated agents whose last decided round chose the gateway
/// (``load``, kept up to date by whoever watches the decisions:
/// ``SimulatedCloud/decisionTap``), so every agent that herds onto a gateway makes the next
/// probes of it slower, as in the selector-only experiment.
public final class WorldProber: SimulatedGatewayProber {
    /// The simulated gateways.
    public let world: GatewayWorld
    /// The gateways' names, by world index.
    public let gateways: [GatewayID]
    /// `hops[node][gateway]`: radio hops from each node to each gateway.
    public let hops: [[Int]]
    /// Simulated agents using each gateway now, by world index.
    public var load: [Int]
    /// Probes measured so far.
    public private(set) var probes = 0
    private let index: [GatewayID: Int]
    private var rng: DeterministicRandom

    /// Creates a prober.
    ///
    /// - Parameters:
    ///   - world: the gateways' latency processes.
    ///   - gateways: their names, in the world's order.
    ///   - hops: `hops[node][gateway]`.
    ///   - seed: seeds the probes' noise and failures.
    public init(world: GatewayWorld, gateways: [GatewayID], hops: [[Int]], seed: UInt64) {
        precondition(gateways.count == world.count, "one name per simulated gateway")
        self.world = world
        self.gateways = gateways
        self.hops = hops
        self.load = [Int](repeating: 0, count: world.count)
        self.index = Dictionary(uniqueKeysWithValues: gateways.enumerated().map { ($1, $0) })
        self.rng = DeterministicRandom.stream(seed, 0x9B0E)
    }

    /// The world index of a gateway name.
    public func worldIndex(of gateway: GatewayID) -> Int? { index[gateway] }

    public func measure(_ probe: GatewayProbe, from node: Int, at time: SimTime) -> (result: ProbeResult, duration: Duration) {
        probes += 1
        guard let g = index[probe.gateway.id] else {
            // A gateway the world does not simulate: nothing answers at its proxy.
            return (ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: nil, failure: .connectFailed), .zero)
        }
        let sample = world.probe(g, at: time, clients: Double(load[g]), hops: hops[node][g], rng: &rng)
        guard let seconds = sample else {
            return (
                ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: nil, failure: .timeout),
                world.settings.probeTimeout)
        }
        let latency = Duration.milliseconds(Int64((seconds * 1000).rounded()))
        return (ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: latency), .microseconds(Int64(seconds * 1_000_000)))
    }
}
