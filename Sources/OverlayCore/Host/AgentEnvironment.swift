import Foundation

/// Something the ``Agent`` reports that changes nothing outside the node by itself: the host
/// logs it, counts it, or tells subscribers (``AgentEnvironment/publish(_:)``).
public enum AgentEvent: Sendable, Equatable {
    /// A member changed state (``AgentDirective/memberChanged(_:)``).
    case memberChanged(MemberChange)
    /// A datagram or item was refused (``AgentDirective/rejected(_:)``).
    case rejected(RejectReason)
    /// The quorum view committed or adopted a view (``AgentDirective/viewChanged(_:previous:)``).
    case viewChanged(CommittedView, previous: CommittedView?)
    /// Quorum was gained or lost, or the reachable count changed (``AgentDirective/quorumChanged(_:)``).
    case quorumChanged(QuorumStatus)
    /// A gateway selection round was decided (``GatewayDirective/decided(_:)``): the host
    /// switches its proxy setting, logs the explanation, tells subscribers.
    case selectionDecided(SelectionDecision)
}

/// What a host of the ``Agent`` provides: the few effects its directives ask for. The daemon
/// implements it with UDP, files, logs and timers; the simulator with its event queue and
/// simulated gateways; the core tests with an in-memory network.
///
/// ``AgentHost/perform(_:nextWakeup:in:)`` is the one interpreter that turns directives into
/// these calls, in order; a host never switches over ``AgentDirective`` itself.
public protocol AgentEnvironment {
    /// Sends `bytes` as one datagram to `endpoint`. Best effort: loss is the protocol's business.
    mutating func transmit(_ bytes: Data, to endpoint: PeerEndpoint)
    /// Keeps `snapshot` so that the next start can pass it to ``AgentBoot`` (crash-safely, in
    /// the daemon: temp file, fsync, rename).
    mutating func persist(_ snapshot: PeerSnapshot)
    /// Logs, counts or forwards an event.
    mutating func publish(_ event: AgentEvent)
    /// Measures `probe`'s gateway through its proxy, then feeds the outcome back with
    /// ``Agent/onProbeResult(_:now:)`` (a probe that cannot run is reported as a failure).
    mutating func probe(_ probe: GatewayProbe)
    /// Arranges for ``Agent/onTick(now:)`` to be called once the clock reaches `wakeup`
    /// (`nil`: no timer is due). Called after every batch of directives with the agent's
    /// ``Agent/nextWakeup``; an earlier timer already armed may stay armed.
    mutating func schedule(wakeup: Instant?)
}
