import Foundation
import OverlayCore

/// The membership figures at one cloud size and loss rate.
public struct ScalePoint: Sendable {
    /// Nodes in the cloud (not counting the joiners used as items to disseminate).
    public let nodes: Int
    /// The loss rate during the measurement.
    public let lossRate: Double
    /// Gossip intervals from the first node that held each disseminated item to 99% of the
    /// running nodes holding it, one value per item.
    public let disseminationRounds: [Double]
    /// The bound the design sets: `2 · log2(N)` gossip intervals.
    public var disseminationBound: Double { 2 * log2(Double(max(2, nodes))) }
    /// All protocol bytes (UDP payload) sent per node per second in the quiet window.
    public let bytesPerNodePerSecond: Double
    /// Datagrams sent per node per second in the quiet window.
    public let datagramsPerNodePerSecond: Double
    /// Seconds from each crash until every running node marked the crashed node failed
    /// (`nil`: not everywhere by the end of the window).
    public let detectionSeconds: [Double?]
    /// For each crash not detected everywhere, what the running nodes that had not marked it
    /// failed believed at the end of the window (`"3 of 1002: 2 alive, 1 unknown"`); empty
    /// strings for crashes detected everywhere.
    public var detectionLaggards: [String] = []
    /// Live members declared failed by anyone (distinct member and incarnation).
    public let falseFailures: Int
    /// Node-hours observed for ``falseFailures``.
    public let nodeHours: Double
    /// Virtual seconds the measurement covered.
    public let measuredSeconds: Double

    /// False failures per node-hour.
    public var falseFailuresPerNodeHour: Double { nodeHours > 0 ? Double(falseFailures) / nodeHours : 0 }
}

/// `overlay-sim scale`: how membership behaves as the cloud grows and the radio gets worse.
///
/// For each cloud size a cloud of real agents joins through its seeds on a clean network (the
/// bootstrap); then, for each loss rate, a copy of the joined cloud (``SimulatedCloud/fork(salt:)``)
/// runs under that loss: a warm-up, a quiet window for the byte rate, new nodes joining one at
/// a time (each one's ALIVE claim is the disseminated item, SWIM 4.4), and crashes (time to
/// detection everywhere, SWIM 4.1-4.2 with Lifeguard's suspicion). False failures are counted
/// over the whole measurement.
public enum ScaleExperiment {
    /// The phases of one measurement, in virtual time.
    public struct Settings: Sendable {
        /// Time under loss before anything is measured. Default 30 s: long enough for
        /// suspicions caused by the change of loss to play out once. (With the quorum view,
        /// `overlay-sim scale` waits 180 s: the view forms during the first two minutes, with
        /// a burst of votes.)
        public var warmUp: Duration = .seconds(30)
        /// The window over which bytes are counted; `nil` (the default) means one push-pull
        /// interval for the cloud's size (``MembershipSettings/pushPullInterval(memberCount:)``)
        /// but at least 60 s, so that the rate includes exactly one round of anti-entropy per
        /// node: push-pulls of nodes started together stay in step, and a window that catches
        /// a fraction of them would misstate the average.
        public var quietWindow: Duration?
        /// Items disseminated (new nodes joining). Default 3.
        public var joiners: Int = 3
        /// Time between joins, and the longest a join is followed. Default 20 s.
        public var joinSpacing: Duration = .seconds(20)
        /// Nodes crashed, one after another. Default 2.
        public var crashes: Int = 2
        /// Time between crashes, and the longest detection is followed. Default 60 s: above
        /// the failure-detection bound of the radio timings at 10,000 members (about 51 s).
        public var crashSpacing: Duration = .seconds(60)
        /// Whether the agents run the quorum view. Default `false`: the sweep measures SWIM
        /// membership and dissemination alone (the view's votes are extra gossip on top).
        public var quorumView = false
        /// The longest the bootstrap may take. Default 600 s.
        public var bootstrapLimit: Duration = .seconds(600)
        /// SWIM and Lifeguard timings of every agent. Default ``MembershipSettings/radio``, the
        /// daemon's default; the mesh lab's fast-preset figures are compared with ``MembershipSettings/fast``.
        public var membership: MembershipSettings = .radio

        /// Creates the defaults.
        public init() {}

        /// The byte-counting window for a cloud of `nodes`.
        public func window(for nodes: Int, membership: MembershipSettings) -> Duration {
            quietWindow ?? .milliseconds(max(60_000, membership.pushPullInterval(memberCount: nodes).milliseconds))
        }
    }

    /// Builds a cloud of `nodes` nodes plus `joiners` reserved nodes that are not started, and
    /// lets the `nodes` join through the seeds on a clean network until each sees all others
    /// alive.
    ///
    /// - Returns: the joined cloud and the virtual time the join took (`nil` if it did not
    ///   finish within the limit).
    public static func bootstrap(nodes: Int, seed: UInt64, settings: Settings = Settings()) -> (SimulatedCloud, Duration?) {
        var configuration = CloudConfiguration(nodeCount: nodes + settings.joiners)
        configuration.extraIdentities = 0
        configuration.quorumView = settings.quorumView
        configuration.membership = settings.membership
        let cloud = SimulatedCloud(configuration: configuration, seed: seed)
        for index in 0..<nodes { cloud.scheduleStart(index, at: .zero) }
        return (cloud, joinTime(cloud, target: nodes * (nodes - 1), limit: settings.bootstrapLimit))
    }

    /// Runs `cloud` until `target` (observer, member) pairs see each other alive, or until
    /// `limit` of virtual time; the time it took, or `nil` if it did not get there.
    private static func joinTime(_ cloud: SimulatedCloud, target: Int, limit: Duration) -> Duration? {
        var aliveViews = 0
        let deadline = SimTime.zero + limit
        while aliveViews < target, let next = cloud.nextEventTime, next <= deadline {
            guard let record = cloud.step() else { break }
            for change in record.changes {
                if change.to == .alive, change.from != .alive { aliveViews += 1 }
                if change.from == .alive, change.to != .alive { aliveViews -= 1 }
            }
        }
        return aliveViews >= target ? cloud.now - .zero : nil
    }

    /// Measures one loss rate on a copy of a joined cloud.
    ///
    /// - Parameters:
    ///   - base: a cloud from ``bootstrap(nodes:seed:settings:)``; it is not changed.
    ///   - nodes: the number of nodes it was bootstrapped with.
    ///   - lossRate: the loss during the measurement.
    ///   - settings: the phases.
    public static func measure(base: SimulatedCloud, nodes: Int, lossRate: Double, settings: Settings = Settings()) -> ScalePoint {
        let cloud = base.fork(salt: UInt64((lossRate * 1_000_000).rounded()) &+ 0x5CA1E)
        cloud.network.lossRate = lossRate
        var rng = DeterministicRandom.stream(base.seed ^ UInt64((lossRate * 1_000_000).rounded()), 0x5CA)
        let gossip = base.configuration.membership.gossipInterval
        let start = cloud.now
        var tracker = Tracker(cloud: cloud)

        tracker.run(until: start + settings.warmUp)
        let quietStart = cloud.now
        let bytesBefore = cloud.bytesSent, datagramsBefore = cloud.datagramsSent
        let quiet = settings.window(for: nodes, membership: base.configuration.membership)
        tracker.run(until: quietStart + quiet)
        let upCount = Double(cloud.upNodes.count)
        let window = quiet.seconds
        let bytesRate = Double(cloud.bytesSent - bytesBefore) / upCount / window
        let datagramRate = Double(cloud.datagramsSent - datagramsBefore) / upCount / window

        var rounds: [Double] = []
        for joiner in 0..<settings.joiners {
            let index = nodes + joiner
            let subject = cloud.id(index)
            tracker.watchLearning(subject)
            cloud.scheduleStart(index, at: cloud.now)
            tracker.run(until: cloud.now + settings.joinSpacing)
            rounds.append(tracker.rounds(subject, among: cloud.upNodes.filter { $0 != index }, gossip: gossip))
        }

        var detections: [Double?] = []
        var laggards: [String] = []
        let seeds = base.configuration.seedCount
        for _ in 0..<settings.crashes {
            let candidates = cloud.upNodes.filter { $0 >= seeds }
            guard !candidates.isEmpty else { break }
            let victim = candidates[rng.below(candidates.count)]
            let crashedAt = cloud.now
            tracker.watchFailure(cloud.id(victim))
            cloud.crash(victim)
            tracker.run(until: crashedAt + settings.crashSpacing)
            detections.append(tracker.failedEverywhere(cloud.id(victim), among: cloud.upNodes).map { ($0 - crashedAt).seconds })
            laggards.append(tracker.laggards(cloud.id(victim), among: cloud.upNodes))
        }
        let measured = (cloud.now - start).seconds
        var point = ScalePoint(
            nodes: nodes, lossRate: lossRate, disseminationRounds: rounds, bytesPerNodePerSecond: bytesRate,
            datagramsPerNodePerSecond: datagramRate, detectionSeconds: detections,
            falseFailures: tracker.falseFailures, nodeHours: tracker.nodeSeconds / 3600, measuredSeconds: measured)
        point.detectionLaggards = laggards
        return point
    }

    /// Follows the steps of a measurement: who learned which new member when, who marked which
    /// crashed member failed when, and which live members were declared failed.
    struct Tracker {
        let cloud: SimulatedCloud
        private var learning: [NodeID: [(Int, SimTime)]] = [:]
        private var failing: [NodeID: [Int: SimTime]] = [:]
        private var falselyFailed = Set<FailedClaim>()
        private(set) var nodeSeconds = 0.0

        struct FailedClaim: Hashable {
            let subject: NodeID
            let incarnation: UInt64
        }

        init(cloud: SimulatedCloud) { self.cloud = cloud }

        var falseFailures: Int { falselyFailed.count }

        mutating func watchLearning(_ subject: NodeID) { learning[subject] = [] }
        mutating func watchFailure(_ subject: NodeID) { failing[subject] = [:] }

        mutating func run(until time: SimTime) {
            let from = cloud.now
            let up = Double(cloud.upNodes.count)
            while let next = cloud.nextEventTime, next <= time {
                guard let record = cloud.step() else { break }
                for change in record.changes { observe(change, by: record.node, at: record.time) }
            }
            cloud.run(until: time)
            nodeSeconds += up * (cloud.now - from).seconds
        }

        private mutating func observe(_ change: MemberChange, by observer: Int, at time: SimTime) {
            if change.from == nil, change.to == .alive, learning[change.id] != nil {
                learning[change.id]!.append((observer, time))
            }
            if change.to == .failed {
                if failing[change.id] != nil {
                    if failing[change.id]![observer] == nil { failing[change.id]![observer] = time }
                } else if let subject = cloud.index(of: change.id), cloud.nodes[subject].isUp {
                    falselyFailed.insert(FailedClaim(subject: change.id, incarnation: change.incarnation))
                }
            }
        }

        /// Gossip intervals from the first node of `audience` that learned `subject` to 99% of
        /// `audience` having learned it (infinity if they did not).
        func rounds(_ subject: NodeID, among audience: [Int], gossip: Duration) -> Double {
            let members = Set(audience)
            var seen = Set<Int>()
            let learned = (learning[subject] ?? []).filter { members.contains($0.0) && seen.insert($0.0).inserted }.map(\.1).sorted()
            let needed = Int((0.99 * Double(members.count)).rounded(.up))
            guard needed > 0, let first = learned.first, learned.count >= needed else { return .infinity }
            return (learned[needed - 1] - first).seconds / gossip.seconds
        }

        /// What the nodes of `audience` that have not marked `subject` failed believe about it,
        /// counted by state (`""` if every node marked it).
        func laggards(_ subject: NodeID, among audience: [Int]) -> String {
            let marks = failing[subject] ?? [:]
            let behind = audience.filter { cloud.id($0) != subject && marks[$0] == nil }
            guard !behind.isEmpty else { return "" }
            var states: [String: Int] = [:]
            for node in behind {
                let state = cloud.nodes[node].agent?.membership.members[subject]?.state
                states[state.map { "\($0)" } ?? "unknown", default: 0] += 1
            }
            let detail = states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            return "\(behind.count) of \(audience.count - 1): \(detail)"
        }

        /// When the last node of `audience` (other than `subject`) marked `subject` failed, if
        /// all did.
        func failedEverywhere(_ subject: NodeID, among audience: [Int]) -> SimTime? {
            guard let marks = failing[subject] else { return nil }
            var latest = SimTime.zero
            for node in audience where cloud.id(node) != subject {
                guard let time = marks[node] else { return nil }
                latest = max(latest, time)
            }
            return latest
        }
    }
}

/// The membership figures of a guifi.net-sized run: many neighbourhood clouds, each running its
/// own overlay, simulated together in one event queue.
public struct FederationPoint: Sendable {
    /// Neighbourhood clouds.
    public let clouds: Int
    /// Nodes per cloud (not counting each cloud's spare joiner).
    public let cloudSize: Int
    /// Agents running in the measurement.
    public var agents: Int { clouds * cloudSize }
    /// The loss during the measurement.
    public let lossRate: Double
    /// Virtual time the clouds took to join (each member seeing every other alive).
    public let bootstrap: Duration?
    /// Gossip intervals to 99% of a cloud, one value per cloud that had a joiner.
    public let disseminationRounds: [Double]
    /// All protocol bytes per node per second in the quiet window.
    public let bytesPerNodePerSecond: Double
    /// Datagrams per node per second in the quiet window.
    public let datagramsPerNodePerSecond: Double
    /// Seconds until each crashed node was failed everywhere in its cloud.
    public let detectionSeconds: [Double?]
    /// Live members declared failed by anyone.
    public let falseFailures: Int
    /// Node-hours observed.
    public let nodeHours: Double
    /// Events the simulation handled.
    public let events: Int
    /// The trace hash at the end.
    public let trace: TraceHash
}

extension ScaleExperiment {
    /// Runs `clouds` neighbourhood clouds of `size` nodes side by side (``CloudConfiguration/cloudSize``):
    /// all join on a clean network, then run at `lossRate` through the same phases as
    /// ``measure(base:nodes:lossRate:settings:)``, with one joiner and one crash in each of the
    /// first ``Settings/joiners`` and ``Settings/crashes`` clouds, all at once.
    public static func federation(clouds: Int, size: Int, lossRate: Double, seed: UInt64, settings: Settings = Settings()) -> FederationPoint {
        var configuration = CloudConfiguration(nodeCount: clouds * (size + 1))
        configuration.cloudSize = size + 1
        configuration.extraIdentities = 0
        configuration.quorumView = settings.quorumView
        let cloud = SimulatedCloud(configuration: configuration, seed: seed)
        let spare = { (k: Int) in cloud.nodes(inCloud: k).upperBound - 1 }
        for k in 0..<clouds {
            for index in cloud.nodes(inCloud: k) where index != spare(k) { cloud.scheduleStart(index, at: .zero) }
        }
        let joined = joinTime(cloud, target: clouds * size * (size - 1), limit: settings.bootstrapLimit)

        cloud.network.lossRate = lossRate
        var rng = DeterministicRandom.stream(seed ^ UInt64((lossRate * 1_000_000).rounded()), 0xFED)
        let gossip = configuration.membership.gossipInterval
        var tracker = Tracker(cloud: cloud)
        let start = cloud.now
        tracker.run(until: start + settings.warmUp)
        let bytesBefore = cloud.bytesSent, datagramsBefore = cloud.datagramsSent
        let quiet = settings.window(for: size, membership: configuration.membership)
        tracker.run(until: cloud.now + quiet)
        let up = Double(cloud.upNodes.count)
        let bytesRate = Double(cloud.bytesSent - bytesBefore) / up / quiet.seconds
        let datagramRate = Double(cloud.datagramsSent - datagramsBefore) / up / quiet.seconds

        let joining = Array(0..<min(clouds, settings.joiners))
        for k in joining {
            tracker.watchLearning(cloud.id(spare(k)))
            cloud.scheduleStart(spare(k), at: cloud.now)
        }
        tracker.run(until: cloud.now + settings.joinSpacing)
        let rounds = joining.map { k in
            tracker.rounds(cloud.id(spare(k)), among: cloud.nodes(inCloud: k).filter { $0 != spare(k) && cloud.nodes[$0].isUp }, gossip: gossip)
        }

        let crashing = Array(0..<min(clouds, settings.crashes))
        var victims: [Int] = []
        for k in crashing {
            let candidates = cloud.nodes(inCloud: k).filter { $0 >= cloud.nodes(inCloud: k).lowerBound + configuration.seedCount && cloud.nodes[$0].isUp }
            guard !candidates.isEmpty else { continue }
            let victim = candidates[rng.below(candidates.count)]
            victims.append(victim)
            tracker.watchFailure(cloud.id(victim))
        }
        let crashedAt = cloud.now
        for victim in victims { cloud.crash(victim) }
        tracker.run(until: crashedAt + settings.crashSpacing)
        let detections = victims.map { victim in
            tracker.failedEverywhere(cloud.id(victim), among: cloud.nodes(inCloud: cloud.cloud(of: victim)).filter { cloud.nodes[$0].isUp })
                .map { ($0 - crashedAt).seconds }
        }
        return FederationPoint(
            clouds: clouds, cloudSize: size, lossRate: lossRate, bootstrap: joined, disseminationRounds: rounds,
            bytesPerNodePerSecond: bytesRate, datagramsPerNodePerSecond: datagramRate, detectionSeconds: detections,
            falseFailures: tracker.falseFailures, nodeHours: tracker.nodeSeconds / 3600, events: cloud.steps, trace: cloud.trace)
    }
}
