/// What the cloud knows about one gateway's performance, seen from this node.
///
/// Built by ``ObservationStore/estimate(for:hops:now:)`` from the latest fresh observation of
/// each distinct observer.
public struct GatewayEstimate: Hashable, Sendable, CustomStringConvertible {
    /// The gateway.
    public let gateway: GatewayID
    /// The median content latency over distinct observers, each adjusted for the difference
    /// between its hop count and this node's, a failed probe counting as
    /// ``SelectorSettings/failurePenalty``. A median: as long as most observers are honest,
    /// a single observer reporting false numbers cannot move it past an honest value.
    public let contentLatency: Duration
    /// The median time to first byte over the observers that reported one, if any.
    public let timeToFirstByte: Duration?
    /// How certain the estimate is: the interquartile range of the contributing latencies
    /// (the middle half of the observers lies within it); `nil` with fewer than two observers.
    /// A few milliseconds: the observers agree; as large as the latency: they do not.
    public let spread: Duration?
    /// How many distinct observers contributed.
    public let observerCount: Int
    /// How many of them saw the probe fail.
    public let failureCount: Int
    /// Time since the newest contributing observation.
    public let age: Duration
    /// Time since the oldest contributing observation.
    public let oldestAge: Duration

    /// Creates an estimate (the store builds them; tests and the simulator may too).
    public init(
        gateway: GatewayID, contentLatency: Duration, timeToFirstByte: Duration? = nil, spread: Duration? = nil,
        observerCount: Int, failureCount: Int = 0, age: Duration = .zero, oldestAge: Duration = .zero
    ) {
        self.gateway = gateway
        self.contentLatency = contentLatency
        self.timeToFirstByte = timeToFirstByte
        self.spread = spread
        self.observerCount = observerCount
        self.failureCount = failureCount
        self.age = age
        self.oldestAge = oldestAge
    }

    /// Whether most observers saw the gateway fail: then the median is the failure penalty and
    /// the gateway is not worth choosing.
    public var isFailing: Bool { failureCount * 2 > observerCount }

    public var description: String {
        "\(gateway): \(contentLatency.milliseconds)ms from \(observerCount) observer(s), \(failureCount) failed, age \(age.milliseconds)ms"
    }
}

/// The gossiped gateway observations this node holds: the latest one per (observer, gateway),
/// within a freshness window, bounded in memory. The one store of observations: with each it
/// keeps the signed item it came in (relayed in push-pull) and its load stamp.
///
/// The load stamp is the cloud's client count of the observation's gateway when this node
/// learnt it. A shared measurement is a snapshot of a queue: a gateway measured at 150 ms with
/// 5 clients may take seconds with 40. Observations carry no load on the wire; the count this
/// node's ``GatewayLoad`` gives when one arrives is a close stand-in (it arrives seconds after
/// the probe, and selection announcements travel with it). The selector carries each
/// observation from its stamp to the present load (``LoadModel``) and counts it as describing
/// the gateway only while the clients stay within a tolerance of the stamp
/// (``GatewaySelector/describesLoad(of:)``), so that a gateway whose load moved counts as
/// unmeasured and the next node drawing it probes it: this is how collaborative selection
/// avoids herding on old information (Mitzenmacher 2000).
///
/// Pure: every call that depends on time takes `now`. Sequence numbers dedupe per observer and
/// gateway, so a replayed or reordered older copy never replaces a newer one. Iteration over
/// the maps never decides a result without sorting first.
public struct ObservationStore: Sendable {
    /// What happened to an observation offered to ``insert(_:now:)``. The raw values are stable
    /// metric labels.
    public enum InsertOutcome: String, Sendable, Hashable {
        /// The first observation of this gateway by this observer that the store holds.
        case inserted
        /// Replaced an older observation (lower sequence) of the same observer and gateway.
        case replaced
        /// Its sequence is not above the one held: a duplicate, a replay or a late copy.
        case duplicate
        /// Taken before the freshness window: too old to say anything about the load now.
        case stale
        /// Taken further in the future than the clock-skew tolerance allows.
        case fromFuture = "from_future"
        /// Inconsistent fields (see ``Observation/isWellFormed``).
        case malformed
        /// The store (or this observer's share of it) is full of newer observations.
        case crowdedOut = "crowded_out"
    }

    /// How long an observation counts. Default 5 min (see ``SelectorSettings/freshnessWindow``).
    public var freshnessWindow: Duration
    /// The most observations held; the oldest is dropped to make room. Default 8,192.
    public var capacity: Int
    /// The most gateways one observer may hold observations about, so a member inventing
    /// gateway names cannot push out everyone else's measurements. Default 64.
    public var maxGatewaysPerObserver: Int
    /// The most observers held per gateway: beyond it, a newer observation replaces the
    /// gateway's oldest. Default 128 (see ``SelectorSettings/observersPerGateway``).
    public var maxObserversPerGateway: Int
    /// The latency a failed probe counts as in an estimate. Default 10 s.
    public var failurePenalty: Duration
    /// The latency added per hop of distance that this node has beyond an observer's.
    /// Default 10 ms.
    public var latencyPerHop: Duration
    /// How far in the future an observation may be dated (clock skew between nodes).
    /// Default 60 s.
    public var futureTolerance: Duration

    /// One observation held, with its signed item (if it came in one) and its load stamp.
    /// Immutable and shared: a reference, so the scans over the store (expiry, eviction,
    /// push-pull) copy one pointer per entry, not its strings and buffers.
    private final class Held: Sendable {
        let observation: Observation
        let item: SignedItem?
        let clients: Int?
        init(observation: Observation, item: SignedItem?, clients: Int?) {
            self.observation = observation
            self.item = item
            self.clients = clients
        }
    }

    private var byGateway: [GatewayID: [NodeID: Held]] = [:]
    private var perObserver: [NodeID: Int] = [:]
    /// The number of observations held.
    public private(set) var count = 0

    /// Creates an empty store.
    public init(
        freshnessWindow: Duration = .seconds(300), capacity: Int = 8192, maxGatewaysPerObserver: Int = 64,
        maxObserversPerGateway: Int = 128, failurePenalty: Duration = .seconds(10),
        latencyPerHop: Duration = .milliseconds(10), futureTolerance: Duration = .seconds(60)
    ) {
        self.freshnessWindow = freshnessWindow
        self.capacity = max(1, capacity)
        self.maxGatewaysPerObserver = max(1, maxGatewaysPerObserver)
        self.maxObserversPerGateway = max(1, maxObserversPerGateway)
        self.failurePenalty = failurePenalty
        self.latencyPerHop = latencyPerHop
        self.futureTolerance = futureTolerance
    }

    /// Creates an empty store with the limits of `settings`.
    public init(settings: SelectorSettings) {
        self.init(
            freshnessWindow: settings.freshnessWindow, capacity: settings.observationCapacity,
            maxGatewaysPerObserver: settings.maxGatewaysPerObserver,
            maxObserversPerGateway: settings.observersPerGateway, failurePenalty: settings.failurePenalty,
            latencyPerHop: settings.latencyPerHop, futureTolerance: settings.clockSkewTolerance)
    }

    /// Offers an observation (this node's own probe result or a verified gossiped one).
    ///
    /// - Parameters:
    ///   - observation: the observation.
    ///   - item: the signed item it came in, or this node's own signed item of it; kept for
    ///     push-pull (``signedItems(limit:)``). `nil`: the observation is only used locally.
    ///   - clients: its load stamp, the clients its gateway has now in this cloud; `nil`: none
    ///     (the observation then always counts as describing the load).
    ///   - now: the current time.
    /// - Returns: whether it was kept, and if not, why.
    @discardableResult
    public mutating func insert(_ observation: Observation, item: SignedItem? = nil, clients: Int? = nil, now: Instant) -> InsertOutcome {
        guard observation.isWellFormed else { return .malformed }
        if observation.takenAt > now + futureTolerance { return .fromFuture }
        if !isFresh(observation, now: now) { return .stale }
        let gateway = observation.gateway, observer = observation.observer
        let held = Held(observation: observation, item: item, clients: clients)
        if let previous = byGateway[gateway]?[observer] {
            guard observation.sequence > previous.observation.sequence else { return .duplicate }
            byGateway[gateway]![observer] = held
            return .replaced
        }
        if let observers = byGateway[gateway], observers.count >= maxObserversPerGateway {
            // The gateway's oldest gives way: a scan of at most `maxObserversPerGateway`.
            guard let oldest = observers.values.min(by: { isOlder($0.observation, than: $1.observation) })?.observation,
                  isOlder(oldest, than: observation) else {
                return .crowdedOut
            }
            remove(oldest)
        }
        if perObserver[observer, default: 0] >= maxGatewaysPerObserver {
            guard let oldest = oldestKey(observer: observer), isOlder(oldest, than: observation) else { return .crowdedOut }
            remove(oldest)
        }
        if count >= capacity {
            guard let oldest = oldestKey(observer: nil), isOlder(oldest, than: observation) else { return .crowdedOut }
            remove(oldest)
        }
        byGateway[gateway, default: [:]][observer] = held
        perObserver[observer, default: 0] += 1
        count += 1
        return .inserted
    }

    /// Drops every observation older than the freshness window.
    ///
    /// - Returns: how many were dropped.
    @discardableResult
    public mutating func expire(now: Instant) -> Int {
        var stale: [Observation] = []
        for (_, observers) in byGateway {
            for (_, held) in observers where !isFresh(held.observation, now: now) { stale.append(held.observation) }
        }
        for observation in stale { remove(observation) }
        return stale.count
    }

    /// Forgets every observation by `observer` (a member that left, or was evicted).
    public mutating func forget(observer: NodeID) {
        var held: [Observation] = []
        for (_, observers) in byGateway { if let kept = observers[observer] { held.append(kept.observation) } }
        for observation in held { remove(observation) }
    }

    /// The latest observation of `gateway` by `observer`, fresh or not (until expired).
    public func latest(of gateway: GatewayID, by observer: NodeID) -> Observation? {
        byGateway[gateway]?[observer]?.observation
    }

    /// The load stamp of `observer`'s latest observation of `gateway`: the clients the gateway
    /// had in this cloud when this node learnt it; `nil` if none was given or none is held.
    public func clients(when observer: NodeID, measured gateway: GatewayID) -> Int? {
        byGateway[gateway]?[observer]?.clients
    }

    /// The signed items of the observations held, newest first (ties by gateway, then
    /// observer), at most `limit`: what a push-pull carries.
    public func signedItems(limit: Int) -> [SignedItem] {
        guard limit > 0 else { return [] }
        // The times alone first, to find the oldest time that makes the cut; then only the
        // entries at or after it are gathered and ordered.
        var times: [Int64] = []
        times.reserveCapacity(count)
        for observers in byGateway.values {
            for kept in observers.values where kept.item != nil { times.append(kept.observation.takenAt.milliseconds) }
        }
        guard !times.isEmpty else { return [] }
        let cut = times.count <= limit ? Int64.min : times.sorted(by: >)[limit - 1]
        var held: [Held] = []
        for observers in byGateway.values {
            for kept in observers.values where kept.item != nil && kept.observation.takenAt.milliseconds >= cut { held.append(kept) }
        }
        held.sort {
            ($1.observation.takenAt, $0.observation.gateway, $0.observation.observer)
                < ($0.observation.takenAt, $1.observation.gateway, $1.observation.observer)
        }
        return held.prefix(limit).compactMap(\.item)
    }

    /// How many observations are held with their signed item.
    public var signedItemCount: Int {
        byGateway.values.reduce(0) { sum, observers in sum + observers.values.reduce(0) { $0 + ($1.item == nil ? 0 : 1) } }
    }

    /// The observers that have at least one observation held, in order.
    public var observers: [NodeID] { perObserver.keys.sorted() }

    /// The fresh observations of `gateway`, one per observer, in observer order.
    ///
    /// - Parameter include: a further test an observation must pass to count (the selector
    ///   passes whether it still describes the gateway's load); default: every fresh one.
    public func observations(
        of gateway: GatewayID, now: Instant, where include: (Observation) -> Bool = { _ in true }
    ) -> [Observation] {
        guard let observers = byGateway[gateway] else { return [] }
        var fresh: [Observation] = []
        for held in observers.values where isFresh(held.observation, now: now) && include(held.observation) {
            fresh.append(held.observation)
        }
        return fresh.sorted { $0.observer < $1.observer }
    }

    /// Every observation held, by gateway then observer (for the local API and snapshots).
    public var all: [Observation] {
        byGateway.values.flatMap { $0.values.map(\.observation) }.sorted { ($0.gateway, $0.observer) < ($1.gateway, $1.observer) }
    }

    /// The gateways that have at least one observation held, in order.
    public var gateways: [GatewayID] { byGateway.keys.sorted() }

    /// How many distinct observers measured `gateway` within the freshness window.
    /// `include` as in ``observations(of:now:where:)``.
    public func observerCount(
        of gateway: GatewayID, now: Instant, where include: (Observation) -> Bool = { _ in true }
    ) -> Int {
        byGateway[gateway]?.values.reduce(0) { $0 + (isFresh($1.observation, now: now) && include($1.observation) ? 1 : 0) } ?? 0
    }

    /// A robust estimate of `gateway`'s content latency as seen from a node `hops` away.
    ///
    /// The median over distinct observers of their latest fresh observation; each success is
    /// adjusted by `(hops - observer's hops) · latencyPerHop` (when both are known, never below
    /// zero), each failure counts as ``failurePenalty``. With an even number of observers the
    /// two middle values are averaged.
    ///
    /// - Parameters:
    ///   - gateway: the gateway.
    ///   - hops: this node's hop count to it, if known.
    ///   - now: the current time.
    ///   - include: as in ``observations(of:now:where:)``.
    ///   - rescale: a factor each successful observation's latency is multiplied by before the
    ///     hop adjustment (the selector carries each one over to the gateway's present load,
    ///     ``LoadModel``); default 1.
    /// - Returns: the estimate, or `nil` if nobody measured the gateway within the window.
    public func estimate(
        for gateway: GatewayID, hops: Int?, now: Instant, where include: (Observation) -> Bool = { _ in true },
        rescale: (Observation) -> Double = { _ in 1 }
    ) -> GatewayEstimate? {
        let fresh = observations(of: gateway, now: now, where: include)
        guard !fresh.isEmpty else { return nil }
        var latencies: [Int64] = []
        var firstBytes: [Int64] = []
        var failures = 0
        for observation in fresh {
            if let latency = observation.contentLatency, observation.failure == nil {
                let carried = latency.scaled(by: rescale(observation))
                latencies.append(adjusted(carried, observerHops: observation.hops, hops: hops).milliseconds)
                if let ttfb = observation.timeToFirstByte {
                    firstBytes.append(adjusted(ttfb, observerHops: observation.hops, hops: hops).milliseconds)
                }
            } else {
                failures += 1
                latencies.append(failurePenalty.milliseconds)
            }
        }
        let newest = fresh.map(\.takenAt).max() ?? now
        let oldest = fresh.map(\.takenAt).min() ?? now
        return GatewayEstimate(
            gateway: gateway,
            contentLatency: .milliseconds(Self.median(latencies)),
            timeToFirstByte: firstBytes.isEmpty ? nil : .milliseconds(Self.median(firstBytes)),
            spread: latencies.count < 2 ? nil : .milliseconds(Self.interquartileRange(latencies)),
            observerCount: fresh.count,
            failureCount: failures,
            age: max(.zero, now - newest),
            oldestAge: max(.zero, now - oldest))
    }

    /// The interquartile range of `values` (at least two): the third quartile minus the first,
    /// each by linear interpolation between the closest ranks.
    static func interquartileRange(_ values: [Int64]) -> Int64 {
        precondition(values.count >= 2)
        let sorted = values.sorted().map(Double.init)
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let lower = Int(position), upper = min(sorted.count - 1, lower + 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        }
        return Int64((quantile(0.75) - quantile(0.25)).rounded())
    }

    /// The median of `values` (the mean of the two middle values for an even count).
    static func median(_ values: [Int64]) -> Int64 {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let middle = sorted.count / 2
        if sorted.count % 2 == 1 { return sorted[middle] }
        return (sorted[middle - 1] + sorted[middle]) / 2
    }

    private func adjusted(_ latency: Duration, observerHops: Int?, hops: Int?) -> Duration {
        guard let observerHops, let hops else { return latency }
        let shifted = latency.milliseconds + Int64(hops - observerHops) * latencyPerHop.milliseconds
        return .milliseconds(max(0, shifted))
    }

    private func isFresh(_ observation: Observation, now: Instant) -> Bool {
        observation.takenAt >= now - freshnessWindow
    }

    /// The oldest observation held (of `observer`, or of anyone), ties broken by gateway and
    /// observer so eviction is deterministic.
    private func oldestKey(observer: NodeID?) -> Observation? {
        var oldest: Observation?
        for (_, observers) in byGateway {
            for (id, held) in observers where observer == nil || id == observer {
                if let current = oldest, !isOlder(held.observation, than: current) { continue }
                oldest = held.observation
            }
        }
        return oldest
    }

    private func isOlder(_ lhs: Observation, than rhs: Observation) -> Bool {
        (lhs.takenAt.milliseconds, lhs.gateway, lhs.observer) < (rhs.takenAt.milliseconds, rhs.gateway, rhs.observer)
    }

    private mutating func remove(_ observation: Observation) {
        guard byGateway[observation.gateway]?.removeValue(forKey: observation.observer) != nil else { return }
        if byGateway[observation.gateway]?.isEmpty == true { byGateway[observation.gateway] = nil }
        let remaining = perObserver[observation.observer, default: 1] - 1
        perObserver[observation.observer] = remaining > 0 ? remaining : nil
        count -= 1
    }
}
