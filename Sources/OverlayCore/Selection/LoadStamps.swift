/// The cloud's client count of each gateway at the moment this node learnt each observation of
/// it, so that an observation stops counting once the load it measured has moved on.
///
/// A shared measurement is a snapshot of a queue: a gateway measured at 150 ms with 5 clients
/// may take seconds with 40. Observations carry no load on the wire; the count this node's
/// ``GatewayLoad`` gives when the observation arrives is a close stand-in (it arrives seconds
/// after the probe, and selection announcements travel with it). The selector keeps an
/// observation only while the gateway's clients stay within a tolerance of that stamp; after
/// that the gateway counts as unmeasured, so the next node drawing it probes it (this is how
/// collaborative selection avoids herding on old information, Mitzenmacher 2000).
struct LoadStamps: Sendable, Equatable {
    private var stamps: [GatewayID: [NodeID: Int]] = [:]

    /// Records that `observation` arrived while `clients` clients of this cloud used its gateway.
    mutating func record(_ observation: Observation, clients: Int) {
        stamps[observation.gateway, default: [:]][observation.observer] = clients
    }

    /// The client count recorded with `observer`'s latest observation of `gateway`.
    func clients(when observer: NodeID, measured gateway: GatewayID) -> Int? {
        stamps[gateway]?[observer]
    }

    /// Whether `observation` still describes its gateway's load: the clients now differ from
    /// the stamp by at most `tolerance`. An observation without a stamp counts.
    func describesLoad(_ observation: Observation, clientsNow: Int, tolerance: Int) -> Bool {
        guard let then = stamps[observation.gateway]?[observation.observer] else { return true }
        return abs(clientsNow - then) <= tolerance
    }

    /// Drops the stamps of observations the store no longer holds.
    mutating func retain(_ store: ObservationStore) {
        for gateway in Array(stamps.keys) {
            let observers = stamps[gateway] ?? [:]
            let kept = observers.filter { store.latest(of: gateway, by: $0.key) != nil }
            stamps[gateway] = kept.isEmpty ? nil : kept
        }
    }
}
