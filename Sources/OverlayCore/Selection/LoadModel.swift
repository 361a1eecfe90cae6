/// How a gateway's content latency grows with the clients of this cloud that use it: the
/// mean response time of an M/M/1 queue, `T(c) = S / (1 - ρ(c))`, with utilisation
/// `ρ(c) = background + c / capacity`.
///
/// The selector uses it for two things a shared measurement alone cannot tell:
/// - to carry an observation taken while the gateway had `c₀` clients over to the clients it
///   has now (``rescale(_:from:to:)``), so that observations taken before and after nodes moved
///   can be pooled instead of thrown away;
/// - to predict the latency of a gateway with this node's move included, and how many more
///   clients a gateway can take before it is no better than another (``room(latency:clients:below:)``),
///   which sizes the damped migration that keeps a cloud from herding (Fischer and Vöcking,
///   "Adaptive routing with stale information", 2009: move with a probability proportional to
///   what the move is worth, so that the expected number of movers fills the gap and no more).
///
/// `capacity` comes from the gateway's announcement (or ``SelectorSettings/assumedCapacity``),
/// `background` is the share of the gateway used by others than this cloud, which the cloud
/// cannot see (``SelectorSettings/backgroundShare``). Beyond ``maximumUtilisation`` the queue
/// would be unstable; the model continues linearly there, so an overloaded gateway predicts
/// slow, finite latencies that still order by how overloaded it is.
public struct LoadModel: Sendable, Equatable {
    /// The gateway's client capacity (at least 1).
    public let capacity: Double
    /// The share of the gateway's capacity used by others than this cloud, in 0..<1.
    public let background: Double
    /// The utilisation past which the model is linear instead of `1 / (1 - ρ)`. 0.95: a queue
    /// that full is twenty times its unloaded latency, past anything a node should choose.
    public static let maximumUtilisation = 0.95

    /// Creates the model of one gateway.
    public init(capacity: Int, background: Double) {
        self.capacity = Double(max(1, capacity))
        self.background = min(0.9, max(0, background))
    }

    /// The utilisation with `clients` of this cloud.
    public func utilisation(clients: Int) -> Double { background + Double(max(0, clients)) / capacity }

    /// The queueing factor `1 / (1 - ρ)` with `clients` of this cloud, linear past
    /// ``maximumUtilisation`` with the slope it has there.
    public func factor(clients: Int) -> Double {
        let rho = utilisation(clients: clients)
        let limit = Self.maximumUtilisation
        if rho <= limit { return 1 / (1 - rho) }
        let slope = 1 / ((1 - limit) * (1 - limit))
        return 1 / (1 - limit) + slope * (rho - limit)
    }

    /// `latency`, measured with `from` clients, carried over to `to` clients.
    public func rescale(_ latency: Duration, from: Int, to: Int) -> Duration {
        guard from != to else { return latency }
        return latency.scaled(by: factor(clients: to) / factor(clients: from))
    }

    /// How many more clients the gateway can take, from `clients` at `latency`, while its
    /// predicted latency stays below `bound`; 0 if even one more would reach it. At most
    /// the capacity.
    public func room(latency: Duration, clients: Int, below bound: Duration) -> Int {
        let base = factor(clients: clients)
        guard base > 0 else { return Int(capacity) }
        let ratio = Double(bound.milliseconds) / Double(max(1, latency.milliseconds))
        var extra = 0
        while extra < Int(capacity), factor(clients: clients + extra + 1) / base < ratio { extra += 1 }
        return extra
    }
}
