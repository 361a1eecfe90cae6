import Foundation
import OverlayCore

/// guifi.net's scale (the RIMO paper's section 4 discussion): tens of thousands of clients in
/// neighbourhood clouds across a city, hundreds of gateways, hop distances from the mesh.
///
/// The city is a square of ``citySide`` radio hop lengths. Cloud centres sit on a jittered grid
/// (one cell per cloud), gateways uniformly at random. A cloud reaches a gateway in
/// `ceil(distance · stretch)` backbone hops (at least 1), where `stretch` is drawn per cloud and
/// gateway from ``pathStretch`` (mesh paths are not straight lines); each client adds its own
/// ``accessHops`` to reach its cloud's backbone node. Clients share measurements and selection
/// announcements only within their cloud; clouds meet only at the gateways they load.
public struct CityScenario: Sendable {
    /// A short name for file names and tables (`guifi`).
    public var name: String
    /// Neighbourhood clouds. Default 175.
    public var clouds: Int
    /// Clients per cloud. Default 200, the top of the design's range for one cloud: 175 × 200
    /// is the paper's 35,000 nodes.
    public var cloudSize: Int
    /// Gateways across the city. Default 400, the paper's figure for guifi.net.
    public var gateways: Int
    /// Side of the square city, in radio hop lengths. Default 20 at 175 clouds: a 10-12 km
    /// city at 0.5-0.6 km of progress per hop; the largest client-gateway distance is then
    /// 35-37 hops.
    public var citySide: Double = 20
    /// Hops from a client to its cloud's backbone node, uniform in this range. Default 1-2.
    public var accessHops: ClosedRange<Int> = 1...2
    /// A mesh path's length over the straight line, uniform per cloud and gateway. Default 1.0-1.3.
    public var pathStretch: ClosedRange<Double> = 1.0...1.3
    /// The selection horizon, MaxHOPS (RIMO Algorithm 1, line 11) of the horizon-bound strategies.
    /// Default 5 hops: with 400 gateways over a 20-hop city, 26-28 gateways lie within it on
    /// average (7% of the city's), the nearest 2-3 hops away. Chosen from the geometry, not
    /// from results.
    public var horizon: Int = 5
    /// The time counted, after the warm-up. Default 5 min, so that the full scale runs in
    /// minutes (see `Docs/results.md`).
    public var duration: Duration = .seconds(300)
    /// Time before counting starts. Default 5 min: one freshness window of shared measurements.
    public var warmUp: Duration = .seconds(300)
    /// Time between selection rounds of each client. Default 5 s, the paper's (RIMO 3.1).
    public var roundInterval: Duration = .seconds(5)
    /// Rounds of one period start within this much of its start. Default 1 s, as ``SelectionScenario/roundJitter``.
    public var roundJitter: Duration = .seconds(1)
    /// The omniscience window. Default 5 min, the paper's (RIMO 3.1).
    public var window: Duration = .seconds(300)
    /// The simulated gateways; capacities are sized on all the city's clients.
    public var world = GatewayWorldSettings()
    /// Settings of the collaborative selectors; ``SelectorSettings/maxHops`` is set to ``horizon``.
    public var selector = SelectorSettings.standard
    /// Every this many clouds (clouds 0, k, 2k, ...) one is measured: the tables count only
    /// the choices of these clouds' clients, for every strategy, and in the collaborative run
    /// only these clouds run overlayd's selector while the others run RIMO with the horizon.
    /// Default 1 (every cloud); ``guifi`` has 15, so 12 clouds (2,400 selectors): each
    /// collaborative selector of a 200-node cloud holds about 0.75 MB of shared observations
    /// and costs about 0.4 ms per round (measured at 12 clouds × 200), so all 35,000 would need
    /// about 26 GB and half an hour on this machine.
    public var measureEvery: Int = 1

    /// Creates a scenario of `clouds` × `cloudSize` clients and `gateways` gateways over a city
    /// whose side grows with the square root of the clouds (``citySide`` at 175 clouds), so
    /// that a scaled-down city keeps the density of clouds and gateways per hop².
    public init(name: String, clouds: Int, cloudSize: Int, gateways: Int) {
        self.name = name
        self.clouds = clouds
        self.cloudSize = cloudSize
        self.gateways = gateways
        citySide = 20 * (Double(clouds) / 175).squareRoot()
    }

    /// The paper's guifi.net: 175 clouds of 200 clients (35,000), 400 gateways.
    public static let guifi: CityScenario = {
        var city = CityScenario(name: "guifi", clouds: 175, cloudSize: 200, gateways: 400)
        city.measureEvery = 15
        return city
    }()

    /// Whether `cloud` is one of the measured clouds (``measureEvery``).
    public func isMeasured(cloud: Int) -> Bool { cloud % max(1, measureEvery) == 0 }

    /// The number of measured clouds.
    public var measuredClouds: Int { (0..<clouds).filter { isMeasured(cloud: $0) }.count }

    /// All the city's clients.
    public var clients: Int { clouds * cloudSize }

    /// The delay before a shared item reaches the rest of its cloud:
    /// `ceil(log2(cloudSize + 1))` gossip intervals of 200 ms, as ``SelectionScenario/sharingDelay``.
    public var sharingDelay: Duration {
        .milliseconds(200 * Int64(ceil(log2(Double(cloudSize + 1)))))
    }

    /// Parses a scale name: `guifi` (the paper's scale) or `guifi:CLOUDSxSIZExGATEWAYS`
    /// (a smaller city for tests, e.g. `guifi:12x50x28`, every cloud measured); `nil` for a
    /// name that is not a city.
    ///
    /// - Throws: ``CityScenarioError`` when the name starts with `guifi:` but is malformed.
    public static func parse(_ name: String) throws -> CityScenario? {
        if name == "guifi" { return .guifi }
        guard name.hasPrefix("guifi:") else { return nil }
        let parts = name.dropFirst("guifi:".count).split(separator: "x").map { Int($0) }
        guard parts.count == 3, let clouds = parts[0], let size = parts[1], let gateways = parts[2],
              clouds >= 1, size >= 1, gateways >= 1, clouds * size <= 1_000_000, gateways <= 10_000
        else {
            throw CityScenarioError(
                description: "scale '\(name)' is not guifi:CLOUDSxSIZExGATEWAYS with positive numbers (at most 1,000,000 clients and 10,000 gateways), e.g. guifi:12x50x28")
        }
        return CityScenario(name: "guifi-\(clouds)x\(size)x\(gateways)", clouds: clouds, cloudSize: size, gateways: gateways)
    }
}

/// A malformed city scale name.
public struct CityScenarioError: Error, CustomStringConvertible, Sendable {
    /// One sentence for the user.
    public let description: String
}

/// The city's geometry drawn from a seed: where clouds and gateways are, and every client's
/// hop count to every gateway.
public struct CityMap: Sendable {
    /// The scenario.
    public let scenario: CityScenario
    /// Each cloud's centre, in hop lengths.
    public let cloudCentres: [(x: Double, y: Double)]
    /// Each gateway's position, in hop lengths.
    public let gatewayPositions: [(x: Double, y: Double)]
    /// Each client's cloud (clients are numbered cloud by cloud).
    public let cloudOf: [Int]
    /// hops[client][gateway]. Clients of one cloud with the same access hops share one array.
    public let hops: [[Int]]
    /// Each client's profile: its cloud and access hops, `cloud · accessCount + access index`.
    /// Clients of one profile have the same distances.
    public let profileOf: [Int]
    /// The number of profiles.
    public let profiles: Int
    /// The largest client-gateway distance, the paper's "MaxHOPS of the network".
    public let maxHops: Int

    /// Draws the city of `scenario` with `seed`.
    public init(scenario: CityScenario, seed: UInt64) {
        self.scenario = scenario
        var rng = DeterministicRandom.stream(seed, 0xC17)
        let side = scenario.citySide
        let columns = Int(Double(scenario.clouds).squareRoot().rounded(.up))
        let rows = (scenario.clouds + columns - 1) / columns
        let cellX = side / Double(columns), cellY = side / Double(rows)
        cloudCentres = (0..<scenario.clouds).map { cloud in
            let column = cloud % columns, row = cloud / columns
            return (x: (Double(column) + rng.uniform(0.25, 0.75)) * cellX, y: (Double(row) + rng.uniform(0.25, 0.75)) * cellY)
        }
        gatewayPositions = (0..<scenario.gateways).map { _ in (x: rng.uniform(0, side), y: rng.uniform(0, side)) }
        let access = Array(scenario.accessHops)
        var table: [[Int]] = []
        var largest = 1
        var byCloud: [[[Int]]] = []
        for centre in cloudCentres {
            let backbone = gatewayPositions.map { position -> Int in
                let distance = ((position.x - centre.x) * (position.x - centre.x) + (position.y - centre.y) * (position.y - centre.y)).squareRoot()
                let stretch = rng.uniform(scenario.pathStretch.lowerBound, scenario.pathStretch.upperBound)
                return max(1, Int((distance * stretch).rounded(.up)))
            }
            byCloud.append(access.map { extra in backbone.map { $0 + extra } })
            largest = max(largest, (backbone.max() ?? 1) + (access.last ?? 0))
        }
        var cloudOf: [Int] = [], profileOf: [Int] = []
        cloudOf.reserveCapacity(scenario.clients)
        profileOf.reserveCapacity(scenario.clients)
        table.reserveCapacity(scenario.clients)
        for cloud in 0..<scenario.clouds {
            for _ in 0..<scenario.cloudSize {
                let index = rng.below(access.count)
                cloudOf.append(cloud)
                profileOf.append(cloud * access.count + index)
                table.append(byCloud[cloud][index])
            }
        }
        self.cloudOf = cloudOf
        self.profileOf = profileOf
        profiles = scenario.clouds * access.count
        hops = table
        maxHops = largest
    }

    /// The gateways within `horizon` hops of `client`, in gateway order.
    public func gateways(of client: Int, within horizon: Int) -> [Int] {
        hops[client].indices.filter { hops[client][$0] <= horizon }
    }
}
