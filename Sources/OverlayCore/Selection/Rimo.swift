/// A gateway that passed RIMO Algorithm 1's filter, with its weight.
public struct WeightedGateway: Hashable, Sendable, CustomStringConvertible {
    /// The gateway.
    public let gateway: Gateway
    /// The hop count used for the weight: the known one, or the horizon when unknown.
    public let hops: Int
    /// Whether ``hops`` came from the hop table or the config (`false`: assumed).
    public let hopsKnown: Bool
    /// `MaxHOPS + 1 - hops` (RIMO Algorithm 1, line 11): a one-hop neighbour weighs `MaxHOPS`,
    /// a gateway at the horizon weighs 1.
    public let weight: Int

    /// Creates a weighted gateway.
    public init(gateway: Gateway, hops: Int, hopsKnown: Bool, weight: Int) {
        self.gateway = gateway
        self.hops = hops
        self.hopsKnown = hopsKnown
        self.weight = weight
    }

    /// The gateway's name.
    public var id: GatewayID { gateway.id }

    public var description: String { "\(gateway.id) (\(hops)\(hopsKnown ? "" : "?") hops, weight \(weight))" }
}

/// The RIMO algorithms (Batbayar et al., "The RIMO Gateway Selection Approach for Mesh
/// Networks", UCAmI 2018, section 2) as pure functions.
///
/// ``GatewaySelector`` composes them; they are public so the simulator and tests can check each
/// step against the paper. Every function that draws takes `using: &rng`, and every function
/// sorts its input by gateway name first, so the result depends only on the values and the
/// generator's state, never on the caller's order.
public enum Rimo {
    /// A measured candidate, as RIMO Algorithm 2 line 6 adds it to `Γcandidates`.
    public struct Sample: Hashable, Sendable {
        /// The candidate.
        public var gateway: GatewayID
        /// Its measured content latency.
        public var contentLatency: Duration
        /// Its hop count (the first tie-breaker: the closer gateway uses fewer links).
        public var hops: Int

        /// Creates a sample.
        public init(gateway: GatewayID, contentLatency: Duration, hops: Int) {
            self.gateway = gateway
            self.contentLatency = contentLatency
            self.hops = hops
        }
    }

    /// RIMO Algorithm 1, procedure Filter (lines 1-7): the gateways the user's preferences admit,
    /// within the selection horizon.
    ///
    /// A gateway passes when the allow and deny lists admit it and its hop count is at most
    /// `min(maxHops, preferences.maxHops)`; an unknown hop count is taken as `maxHops` (the
    /// paper's MaxHOPS: a gateway we cannot place is assumed as far as any).
    ///
    /// - Parameters:
    ///   - gateways: Γ, the available gateways.
    ///   - preferences: the user's preferences.
    ///   - maxHops: MaxHOPS, the selection horizon.
    ///   - hops: this node's hop count to a gateway, if known.
    /// - Returns: Γfiltered, in gateway order.
    public static func filter(
        _ gateways: [Gateway], preferences: GatewayPreferences, maxHops: Int, hops: (Gateway) -> Int?
    ) -> [Gateway] {
        let horizon = min(maxHops, preferences.maxHops ?? maxHops)
        return deduplicated(gateways).filter { gateway in
            preferences.admits(gateway.id) && max(0, hops(gateway) ?? maxHops) <= horizon
        }
    }

    /// RIMO Algorithm 1, procedure HOPStoGateways (lines 8-13): weight each gateway
    /// `MaxHOPS + 1 - hops`, so that a near gateway, which loads fewer mesh links, is drawn
    /// more often.
    ///
    /// An unknown hop count is taken as `maxHops` (weight 1). A weight is never below 1, so a
    /// gateway the filter let through can always be drawn.
    ///
    /// - Returns: Γweighted, in gateway order.
    public static func weigh(_ gateways: [Gateway], maxHops: Int, hops: (Gateway) -> Int?) -> [WeightedGateway] {
        deduplicated(gateways).map { gateway in
            let known = hops(gateway)
            let distance = max(0, known ?? maxHops)
            return WeightedGateway(
                gateway: gateway, hops: distance, hopsKnown: known != nil, weight: max(1, maxHops + 1 - distance))
        }
    }

    /// RIMO Algorithm 1 whole: ``filter(_:preferences:maxHops:hops:)`` then
    /// ``weigh(_:maxHops:hops:)``.
    public static func weightedGateways(
        _ gateways: [Gateway], preferences: GatewayPreferences, maxHops: Int, hops: (Gateway) -> Int?
    ) -> [WeightedGateway] {
        weigh(filter(gateways, preferences: preferences, maxHops: maxHops, hops: hops), maxHops: maxHops, hops: hops)
    }

    /// RIMO Algorithm 2, line 2: `WeightedRandomSet(Γweighted, n)`, `n` distinct gateways drawn
    /// without replacement, each draw with probability proportional to weight among those left.
    ///
    /// - Parameters:
    ///   - weighted: Γweighted.
    ///   - count: how many to draw (the paper's 2); fewer if fewer are left.
    ///   - excluding: gateways not to draw (the previously used one, which Algorithm 2 adds
    ///     anyway).
    ///   - rng: the generator.
    /// - Returns: the drawn gateways, in draw order.
    public static func weightedRandomSet(
        _ weighted: [WeightedGateway], count: Int, excluding: Set<GatewayID> = [],
        using rng: inout some RandomNumberGenerator
    ) -> [WeightedGateway] {
        var seen = Set<GatewayID>()
        var pool = weighted.filter { !excluding.contains($0.id) && seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
        var drawn: [WeightedGateway] = []
        while drawn.count < count, !pool.isEmpty {
            let total = pool.reduce(0) { $0 + max(1, $1.weight) }
            var ticket = Int.random(in: 0..<total, using: &rng)
            var index = 0
            while ticket >= max(1, pool[index].weight) {
                ticket -= max(1, pool[index].weight)
                index += 1
            }
            drawn.append(pool.remove(at: index))
        }
        return drawn
    }

    /// RIMO Algorithm 2, lines 2-3: the candidate list `{C1, C2, previouslyUsedGateway}`.
    ///
    /// Draws `count` distinct gateways other than the previous one by weight, then adds the
    /// previous one if it is still in Γweighted (a gateway the user has since denied is not kept
    /// for consistency's sake).
    ///
    /// - Returns: the candidates, drawn ones first in draw order, the previous one last.
    public static func candidates(
        from weighted: [WeightedGateway], previous: GatewayID?, count: Int = 2,
        using rng: inout some RandomNumberGenerator
    ) -> [WeightedGateway] {
        var list = weightedRandomSet(
            weighted, count: count, excluding: previous.map { [$0] } ?? [], using: &rng)
        if let previous, let kept = weighted.first(where: { $0.id == previous }) { list.append(kept) }
        return list
    }

    /// RIMO Algorithm 3, `Best(Γcandidates)`: the candidate with the lowest measured content
    /// latency; ties go to the nearer gateway, then to the smaller name.
    ///
    /// - Returns: the best sample, or `nil` if there is none.
    public static func best(_ samples: [Sample]) -> Sample? {
        samples.min { lhs, rhs in
            (lhs.contentLatency.milliseconds, lhs.hops, lhs.gateway) < (rhs.contentLatency.milliseconds, rhs.hops, rhs.gateway)
        }
    }

    /// The gateways sorted by name, keeping the first of any duplicate name.
    private static func deduplicated(_ gateways: [Gateway]) -> [Gateway] {
        var seen = Set<GatewayID>()
        return gateways.filter { seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
    }
}
