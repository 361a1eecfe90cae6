import Foundation
import OverlayCore

/// The knobs of the simulated gateways. Each default has its reason; `Docs/results.md` lists
/// them next to the figures they produce.
public struct GatewayWorldSettings: Sendable, Equatable {
    /// Median base content latency of a gateway, unloaded, in seconds. Default 0.08 s: a small
    /// object through a community proxy on a good line.
    public var baseMedian: Double = 0.08
    /// Spread of base latencies across gateways (σ of the natural log). Default 1.0: the
    /// RIMO paper's gateways differ by more than an order of magnitude (its random choice is
    /// 18 times the omniscient one at the 80th percentile).
    public var baseSpread: Double = 1.0
    /// Slow drift of each gateway's latency: stationary σ of its log. Default 0.35.
    public var driftSigma: Double = 0.35
    /// Time constant of the drift (an Ornstein-Uhlenbeck process). Default 30 min: the upstream
    /// line's congestion follows the hours of the day.
    public var driftTimeConstant: Duration = .seconds(1800)
    /// Other users' share of each gateway's capacity: each gateway's mean is uniform in this
    /// range. Default 0.1-0.5: community proxies also serve users outside the simulated cloud.
    public var backgroundRange: ClosedRange<Double> = 0.1...0.5
    /// Fluctuation of the other users' share (stationary σ). Default 0.08.
    public var backgroundSigma: Double = 0.08
    /// Time constant of that fluctuation. Default 20 min.
    public var backgroundTimeConstant: Duration = .seconds(1200)
    /// Capacity of the gateways taken together, as a multiple of the simulated clients.
    /// Default 3: after the other users' share (30% on average) the cloud's clients fill about
    /// half of what is left when spread evenly, so a balanced choice runs the gateways at
    /// about 0.6-0.8 utilisation and herding pushes one past saturation.
    public var headroom: Double = 3.0
    /// The smallest capacity of a gateway, in clients. Default 25: a proxy shared by a
    /// neighbourhood; at the paper's scale (5 clients, 12 gateways) the simulated clients are a
    /// small part of each gateway's users, as they were in guifi.net.
    public var minimumCapacity: Double = 25
    /// Each gateway's capacity is the mean times a uniform factor in this range. Default
    /// 0.6-1.4.
    public var capacitySpread: ClosedRange<Double> = 0.6...1.4
    /// Per-request noise of a probe (σ of a mean-one log-normal factor). Default 0.6: the paper
    /// finds single content-latency samples only moderately correlated (Spearman 0.45 on
    /// average) with the next 5 minutes (RIMO 3.2, Figure 2).
    public var probeNoise: Double = 0.6
    /// Probability that a probe fails outright (connection refused, proxy error). Default 0.005.
    public var probeFailureRate: Double = 0.005
    /// A probe slower than this is a timeout, as the shell's prober. Default 5 s.
    public var probeTimeout: Duration = .seconds(5)
    /// Content latency added per mesh hop between client and gateway: three round trips of a
    /// small HTTP fetch over hops of ``NetworkConditions/perHopDelay`` (2 ms each way).
    /// Default 12 ms.
    public var latencyPerHop: Double = 0.012
    /// Step of the exogenous processes (drift, background). Default 10 s.
    public var processStep: Duration = .seconds(10)

    /// Creates the defaults.
    public init() {}
}

/// Simulated Internet gateways whose content latency depends on their load.
///
/// A gateway's true content latency at time `t`, seen from a client `h` hops away, is
///
///     T = base · drift(t) · q(ρ) + h · latencyPerHop,    ρ = background(t) + clients(t) / capacity
///
/// where `q(ρ) = 1 / (1 - ρ)` below 0.9 (the mean response time of an M/M/1 queue) and grows
/// linearly with slope 100 beyond (an overloaded proxy, kept finite). A probe sees `T` times a
/// mean-one log-normal noise factor. So every client that herds onto the best gateway makes it
/// slower for all of its users (the RIMO paper's Figure 5 concern).
public struct GatewayWorld: Sendable {
    /// The settings.
    public let settings: GatewayWorldSettings
    /// The number of gateways.
    public let count: Int
    /// Each gateway's base latency in seconds.
    public let base: [Double]
    /// Each gateway's capacity in clients.
    public let capacity: [Double]
    /// Each gateway's mean background share.
    public let backgroundMean: [Double]
    /// drift[g][k]: the drift factor during step `k`.
    let drift: [[Double]]
    /// background[g][k]: the background share during step `k`.
    let background: [[Double]]
    let step: Int64

    /// Draws the gateways of a run.
    ///
    /// - Parameters:
    ///   - count: the number of gateways.
    ///   - clients: the number of simulated clients (sizes the capacities).
    ///   - duration: how long the processes must run.
    ///   - settings: the knobs.
    ///   - seed: the seed.
    public init(count: Int, clients: Int, duration: Duration, settings: GatewayWorldSettings, seed: UInt64) {
        self.settings = settings
        self.count = count
        var rng = DeterministicRandom.stream(seed, 0x6A7E)
        let mean = max(settings.minimumCapacity, settings.headroom * Double(clients) / Double(max(1, count)))
        var base: [Double] = [], capacity: [Double] = [], backgroundMean: [Double] = []
        for _ in 0..<count {
            base.append(settings.baseMedian * exp(settings.baseSpread * rng.normal()))
            capacity.append(mean * rng.uniform(settings.capacitySpread.lowerBound, settings.capacitySpread.upperBound))
            backgroundMean.append(rng.uniform(settings.backgroundRange.lowerBound, settings.backgroundRange.upperBound))
        }
        step = max(1, settings.processStep.microsecondsValue)
        let steps = Int(duration.microsecondsValue / step) + 2
        let dt = Double(step) / 1_000_000
        func process(mean: Double, sigma: Double, tau: Duration, rng: inout DeterministicRandom) -> [Double] {
            // Exact discretisation of an Ornstein-Uhlenbeck process started at its stationary law.
            let a = exp(-dt / max(1e-9, tau.seconds))
            let noise = sigma * (1 - a * a).squareRoot()
            var value = mean + sigma * rng.normal()
            var out: [Double] = []
            out.reserveCapacity(steps)
            for _ in 0..<steps {
                out.append(value)
                value = mean + a * (value - mean) + noise * rng.normal()
            }
            return out
        }
        drift = (0..<count).map { _ in
            process(mean: 0, sigma: settings.driftSigma, tau: settings.driftTimeConstant, rng: &rng).map { exp($0) }
        }
        background = (0..<count).map { g in
            process(mean: backgroundMean[g], sigma: settings.backgroundSigma, tau: settings.backgroundTimeConstant, rng: &rng)
                .map { min(0.95, max(0, $0)) }
        }
        self.base = base
        self.capacity = capacity
        self.backgroundMean = backgroundMean
    }

    /// The queueing factor `q(ρ)`.
    @inline(__always)
    static func queueing(_ rho: Double) -> Double {
        rho < 0.9 ? 1 / (1 - max(0, rho)) : 10 + 100 * (rho - 0.9)
    }

    @inline(__always)
    func stepIndex(_ time: SimTime) -> Int { min(drift[0].count - 1, max(0, Int(time.microseconds / step))) }

    /// The gateway's own content latency (without the mesh path) at `time` with `clients` of
    /// the simulated cloud on it, in seconds.
    @inline(__always)
    public func gatewayLatency(_ gateway: Int, at time: SimTime, clients: Double) -> Double {
        let k = stepIndex(time)
        return gatewayLatency(gateway, step: k, clients: clients)
    }

    @inline(__always)
    func gatewayLatency(_ gateway: Int, step k: Int, clients: Double) -> Double {
        let rho = background[gateway][k] + clients / capacity[gateway]
        return base[gateway] * drift[gateway][k] * Self.queueing(rho)
    }

    /// The number of process steps.
    var stepCount: Int { drift.first?.count ?? 0 }

    /// One probe through `gateway` from `hops` hops away: the noisy content latency, or `nil`
    /// if the probe failed (timeout or error).
    public func probe(_ gateway: Int, at time: SimTime, clients: Double, hops: Int, rng: inout DeterministicRandom) -> Double? {
        let truth = gatewayLatency(gateway, at: time, clients: clients) + Double(hops) * settings.latencyPerHop
        let sigma = settings.probeNoise
        let sample = truth * exp(sigma * rng.normal() - sigma * sigma / 2)
        if rng.chance(settings.probeFailureRate) || sample > settings.probeTimeout.seconds { return nil }
        return sample
    }
}
