/// The one interpreter of the ``Agent``'s directives, shared by every host.
///
/// A host feeds the agent an input (``Agent/start(now:)``, ``Agent/onDatagram(_:from:now:)``,
/// ``Agent/onTick(now:)``, ``Agent/onProbeResult(_:now:)``, ``Agent/leave(now:)``...) and hands
/// the directives it returned to ``perform(_:nextWakeup:in:)``, which maps each one, in order,
/// onto its ``AgentEnvironment`` and then re-arms the timer. How a host starts the agent is
/// ``AgentBoot``'s.
public enum AgentHost {
    /// Performs `directives` in order on `environment`, then schedules the next wake-up.
    ///
    /// - Parameters:
    ///   - directives: what one input of the agent returned.
    ///   - nextWakeup: the agent's ``Agent/nextWakeup`` after that input.
    ///   - environment: the host's effects.
    public static func perform<Environment: AgentEnvironment>(
        _ directives: [AgentDirective], nextWakeup: Instant?, in environment: inout Environment
    ) {
        for directive in directives {
            switch directive {
            case .transmit(let bytes, let endpoint):
                environment.transmit(bytes, to: endpoint)
            case .persist(let snapshot):
                environment.persist(snapshot)
            case .memberChanged(let change):
                environment.publish(.memberChanged(change))
            case .rejected(let reason):
                environment.publish(.rejected(reason))
            case .viewChanged(let view, let previous):
                environment.publish(.viewChanged(view, previous: previous))
            case .quorumChanged(let status):
                environment.publish(.quorumChanged(status))
            case .gateway(.probe(let probe)):
                environment.probe(probe)
            case .gateway(.decided(let decision)):
                environment.publish(.selectionDecided(decision))
            }
        }
        environment.schedule(wakeup: nextWakeup)
    }
}
