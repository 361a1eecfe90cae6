import Foundation
import OverlayCore

/// What happened in one step of a ``SimulatedCloud``: one event, handled by one node.
public struct StepRecord: Sendable {
    /// What kind of event the step was.
    public enum Kind: Sendable, Equatable {
        /// A datagram reached `node`. `accepted`: the agent's codec let it through.
        case delivery(from: Int, accepted: Bool, injected: Bool)
        /// `node`'s timers fired.
        case tick
        /// `node` started (or restarted).
        case start
        /// A gateway probe of `node` answered (``SimulatedCloud/prober``).
        case probe
        /// Nothing for an agent (a datagram to a node that is down, a stale timer).
        case idle
    }

    /// The virtual time of the step.
    public var time: SimTime
    /// The node that handled it, or -1.
    public var node: Int
    /// The kind of event.
    public var kind: Kind
    /// The membership changes the node reported in this step.
    public var changes: [MemberChange] = []
    /// The refusals the node reported in this step.
    public var rejections: [RejectReason] = []
    /// For an injected datagram: the node's ``SimulatedCloud/membershipFingerprint(_:)`` just
    /// before and just after handling it.
    public var fingerprints: (before: UInt64, after: UInt64)?
    /// For an injected datagram: what the attacker did and what the node must do about it.
    public var injection: Injection?
    /// For an injected datagram: its size, and the bytes the node sent in answer within the
    /// step (a refused datagram may be answered, by a join challenge, with at most its own size).
    public var answer: (injected: Int, sent: Int)?
}

/// A datagram an attacker put on the air, and what the receiving node must do with it.
public struct Injection: Sendable, Equatable {
    /// The kinds of attack the chaos runs make.
    public enum Attack: String, Sendable, CaseIterable {
        /// A datagram the recipient already accepted, sent to it again.
        case replay
        /// A datagram the recipient already accepted, sent to another node.
        case redirect
        /// A captured join datagram (it names no recipient, since the joiner does not know the
        /// seed's key yet), sent to another node from the joiner's address. The node must
        /// refuse it and answer at most with a challenge no larger than the join (``JoinGate``):
        /// it carries no cookie that node issued to that address.
        case redirectJoin = "redirect-join"
        /// A captured datagram with one byte changed.
        case tamper
        /// A datagram signed by a key outside the keyring.
        case outsider
        /// A validly signed datagram from an admitted key carrying items whose origin
        /// signature is not the origin's, or that break a rule of their kind.
        case forgedItems = "forged-items"
    }

    /// The attacks a chaos run makes by default: every kind but ``Attack/redirectJoin``.
    public static let standardAttacks: [Attack] = [.replay, .redirect, .tamper, .outsider, .forgedItems]

    /// What the recipient must do.
    public enum Expectation: Sendable, Equatable {
        /// Refuse the whole datagram.
        case refuseDatagram
        /// Refuse every one of this many items (the datagram itself may pass).
        case refuseItems(Int)
    }

    /// The attack.
    public let attack: Attack
    /// The required outcome.
    public let expectation: Expectation

    /// Creates an injection description.
    public init(attack: Attack, expectation: Expectation) {
        self.attack = attack
        self.expectation = expectation
    }
}

/// A datagram the cloud saw on the air, kept for the chaos runs' replay and tampering attacks.
public struct CapturedDatagram: Sendable {
    /// The sender's index.
    public let from: Int
    /// The recipient's index.
    public let to: Int
    /// The bytes, exactly as sent.
    public let bytes: Data
    /// How many times the recipient had started when the datagram reached it (or was lost).
    public let recipientStarts: Int
}

/// Many instances of the real core (``Agent``) on a simulated network and virtual time.
///
/// Everything that happens comes from one 64-bit seed: the mesh, the node identities and
/// clocks, every agent's generator, every loss, duplication and delay. Events (datagram
/// deliveries, timer wakeups, starts) sit in one queue keyed by (virtual time, sequence), and
/// ``step()`` handles exactly one; nothing iterates a `Set` or `Dictionary` in a way that could
/// change the course of a run. Agents live in an array indexed by node number; endpoints
/// (`10.a.b.c:7946`) map to indices through one dictionary.
///
/// The cloud is the network and the shells; it never reaches into an agent except through
/// the inputs a daemon would use (`start`, `onDatagram`, `onTick`, `leave`) and the
/// read-only state the daemon's API shows.
public final class SimulatedCloud {
    enum Event {
        case deliver(to: Int32, from: Int32, bytes: Data, injected: Injection?)
        case wake(Int32)
        case start(Int32)
        case probeDone(Int32, starts: Int32, ProbeResult)
    }

    /// One simulated box.
    public struct Node {
        /// Its identity index.
        public let index: Int
        /// Its endpoint.
        public let endpoint: PeerEndpoint
        /// Its clock.
        public let clock: NodeClock
        /// Its agent, once started (kept, frozen, while the node is down).
        public internal(set) var agent: Agent?
        /// Whether the process is running.
        public internal(set) var isUp = false
        /// How many times it was (re)started.
        public internal(set) var starts = 0
        /// The last snapshot the agent asked to persist, as the shell would have written it.
        public internal(set) var persisted: PeerSnapshot?
        var wakeAt: Int64?
        /// Probes measuring now, and those waiting for one of them to end (the daemon's prober
        /// runs ``GatewayGossipSettings/maxConcurrentProbes`` at once and queues the others).
        var probesInFlight = 0
        var waitingProbes: [GatewayProbe] = []
    }

    /// The configuration.
    public let configuration: CloudConfiguration
    /// The seed everything derives from.
    public let seed: UInt64
    /// The identities (nodes first, then the extra ones).
    public let identities: SimIdentities
    /// The keyring every agent uses: every identity, nodes and extras.
    public let keyring: Keyring
    /// The meshes that give per-pair delays: one per neighbourhood cloud.
    public let meshes: [MeshTopology]
    /// Nodes per neighbourhood cloud (all nodes when there is one cloud).
    public let cloudSize: Int
    /// The nodes, by index.
    public private(set) var nodes: [Node] = []
    /// The network now.
    public var network: NetworkConditions
    /// The current virtual time.
    public private(set) var now = SimTime.zero
    /// The hash of everything observable so far.
    public private(set) var trace = TraceHash()
    /// Partition labels: a datagram is delivered only between nodes with the same label.
    public private(set) var partition: [UInt8]
    /// Whether a partition is in force.
    public private(set) var isPartitioned = false

    /// Datagrams the agents asked to send.
    public private(set) var datagramsSent = 0
    /// Bytes of those datagrams (UDP payload).
    public private(set) var bytesSent = 0
    /// Datagrams dropped by loss, partition or a node being down.
    public private(set) var datagramsDropped = 0
    /// Datagrams handed to an agent.
    public private(set) var datagramsDelivered = 0
    /// Events handled.
    public private(set) var steps = 0

    /// Whether to keep recent datagrams for ``capturedAccepted`` and ``capturedLost``.
    /// Default `false` (it costs a copy reference per datagram).
    public var capturesTraffic = false
    /// The last datagrams that reached their recipient and were accepted (at most 256), or
    /// passed every check of the codec but were refused as joins without a cookie
    /// (``OverlayCore/RejectReason/unverifiedJoin``): genuine datagrams an attacker may capture.
    public private(set) var capturedAccepted: [CapturedDatagram] = []
    /// The last datagrams lost on the way, never delivered (at most 256).
    public private(set) var capturedLost: [CapturedDatagram] = []

    /// Called with every datagram handed to an agent (recipient, sender, bytes), before the
    /// agent sees it: for tracing a run, never for deciding anything.
    public var deliveryTap: ((Int, Int, Data) -> Void)?
    /// Called with every datagram an agent asks to send (sender, endpoint, bytes): for tracing
    /// and traffic accounting.
    public var transmitTap: ((Int, PeerEndpoint, Data) -> Void)?

    /// The gateway selection settings node `index` boots with (`nil`, or a `nil` answer:
    /// gateway selection off, gateway items only relayed, as in the membership runs).
    /// Default `nil`. Copied by ``fork(salt:)``.
    public var gatewaySettings: ((Int) -> GatewayGossipSettings?)?
    /// Answers the agents' gateway probes (``WorldProber``: simulated gateways whose latency
    /// depends on their load). Without one, a probe is reported as a failure at once, as the
    /// daemon reports a probe that cannot run. Not copied by ``fork(salt:)``.
    public var prober: (any SimulatedGatewayProber)?
    /// Called with every selection round an agent decided (node, decision), at the virtual
    /// time of the decision: where experiments learn which gateway each node uses.
    public var decisionTap: ((Int, SelectionDecision) -> Void)?

    private var queue = EventQueue<Event>()
    private var endpointIndex: [PeerEndpoint: Int32] = [:]
    private var networkRandom: DeterministicRandom

    /// Creates a cloud; no node runs until started.
    public init(configuration: CloudConfiguration, seed: UInt64) {
        self.configuration = configuration
        self.seed = seed
        self.network = configuration.network
        let count = configuration.nodeCount
        identities = SimIdentities(count: count + configuration.extraIdentities, seed: seed)
        keyring = Keyring(identities.ids.enumerated().map { Keyring.Entry(id: $1, label: "node\($0)") })
        let size = max(1, min(count, configuration.cloudSize ?? count))
        cloudSize = size
        meshes = stride(from: 0, to: count, by: size).map { start in
            let block = UInt64(start / size)
            return MeshTopology(
                count: min(size, count - start), degree: configuration.meshDegree,
                seed: block == 0 ? seed : KeyedTag.mix(seed ^ block))
        }
        networkRandom = DeterministicRandom.stream(seed, 0x4E7)
        partition = [UInt8](repeating: 0, count: count)
        var clocks = DeterministicRandom.stream(seed, 0xC10C)
        let spread = configuration.clockOffsetSpread.microsecondsValue
        nodes.reserveCapacity(count)
        for index in 0..<count {
            let offset = spread > 0 ? Int64(clocks.below(Int(2 * spread + 1))) - spread : 0
            let rate = configuration.clockRatePPM > 0
                ? Int64(clocks.below(2 * configuration.clockRatePPM + 1)) - Int64(configuration.clockRatePPM) : 0
            let endpoint = SimIdentities.endpoint(index)
            nodes.append(Node(index: index, endpoint: endpoint, clock: NodeClock(offsetMicroseconds: offset, ratePPM: rate)))
            endpointIndex[endpoint] = Int32(index)
        }
    }

    /// A copy of this cloud at this instant whose network draws from a new stream: the same
    /// nodes, agents, clocks and pending events, so several experiments can start from one
    /// expensive bootstrap. Agents are values; each copy's agents diverge from the first
    /// write on (copy-on-write).
    ///
    /// - Parameter salt: distinguishes the copy's network stream from the original's and from
    ///   other copies'.
    public func fork(salt: UInt64) -> SimulatedCloud { SimulatedCloud(copying: self, salt: salt) }

    private init(copying other: SimulatedCloud, salt: UInt64) {
        configuration = other.configuration
        seed = other.seed
        identities = other.identities
        keyring = other.keyring
        meshes = other.meshes
        cloudSize = other.cloudSize
        nodes = other.nodes
        network = other.network
        now = other.now
        trace = other.trace
        trace.absorb(salt)
        partition = other.partition
        isPartitioned = other.isPartitioned
        datagramsSent = other.datagramsSent
        bytesSent = other.bytesSent
        datagramsDropped = other.datagramsDropped
        datagramsDelivered = other.datagramsDelivered
        steps = other.steps
        capturesTraffic = other.capturesTraffic
        gatewaySettings = other.gatewaySettings
        queue = other.queue
        endpointIndex = other.endpointIndex
        networkRandom = DeterministicRandom.stream(other.seed ^ KeyedTag.mix(salt), 0x4E7)
        idIndex = other.idIndex
    }

    // MARK: Queries

    /// The node ID of node `index`.
    public func id(_ index: Int) -> NodeID { identities.ids[index] }

    /// The node index of `id`, if it is a node of this cloud.
    public func index(of id: NodeID) -> Int? {
        // Identities are few enough to keep a lazily built map.
        if idIndex.isEmpty {
            for (index, id) in identities.ids.enumerated() { idIndex[id] = index }
        }
        guard let index = idIndex[id], index < nodes.count else { return nil }
        return index
    }
    private var idIndex: [NodeID: Int] = [:]

    /// The indices of nodes whose process is running.
    public var upNodes: [Int] { nodes.indices.filter { nodes[$0].isUp } }

    /// Node `index`'s clock reading now.
    public func localNow(_ index: Int) -> Instant { nodes[index].clock.instant(at: now) }

    /// The time of the next pending event.
    public var nextEventTime: SimTime? { queue.nextTime.map(SimTime.init(microseconds:)) }

    /// The one-way delay from `from` to `to` before jitter: hops times the per-hop delay.
    public func baseDelay(from: Int, to: Int) -> Duration {
        .microseconds(Int64(max(1, hops(from: from, to: to))) * network.perHopDelay.microsecondsValue)
    }

    /// Radio hops between two nodes of the same neighbourhood cloud (255 across clouds: no route).
    public func hops(from: Int, to: Int) -> Int {
        let block = from / cloudSize
        guard to / cloudSize == block else { return 255 }
        return meshes[block].hops(from: from - block * cloudSize, to: to - block * cloudSize)
    }

    /// The neighbourhood cloud of node `index` (0 when there is one cloud).
    public func cloud(of index: Int) -> Int { index / cloudSize }

    /// The nodes of neighbourhood cloud `cloud`.
    public func nodes(inCloud cloud: Int) -> Range<Int> {
        (cloud * cloudSize)..<min(nodes.count, (cloud + 1) * cloudSize)
    }

    // MARK: Actions (what an operator or a fault does)

    /// Schedules node `index` to start at `time` (it must not be running then).
    public func scheduleStart(_ index: Int, at time: SimTime) {
        queue.push(.start(Int32(index)), at: max(time, now).microseconds)
    }

    /// Starts every node now, in index order.
    public func startAll() {
        for index in nodes.indices { scheduleStart(index, at: now) }
    }

    /// Crashes node `index`: the process stops at once (no leave); datagrams to it are lost.
    public func crash(_ index: Int) {
        guard nodes[index].isUp else { return }
        nodes[index].isUp = false
        nodes[index].wakeAt = nil
        nodes[index].probesInFlight = 0
        nodes[index].waitingProbes = []
        trace.absorb(0xC7A5)
        trace.absorb(index)
    }

    /// Makes node `index` leave gracefully (as on SIGTERM), then stop.
    public func leave(_ index: Int) -> StepRecord {
        var record = StepRecord(time: now, node: index, kind: .idle)
        guard nodes[index].isUp, nodes[index].agent != nil else { return record }
        let local = nodes[index].clock.instant(at: now)
        let directives = nodes[index].agent!.leave(now: local)
        handle(directives, from: index, into: &record)
        nodes[index].isUp = false
        nodes[index].wakeAt = nil
        return record
    }

    /// Splits the cloud: `labels[i]` is node `i`'s side; datagrams cross no side boundary.
    public func partition(_ labels: [UInt8]) {
        precondition(labels.count == nodes.count)
        partition = labels
        isPartitioned = Set(labels).count > 1
        trace.absorb(0x9A27)
        for label in labels { trace.absorb(Int(label)) }
    }

    /// Removes every partition.
    public func heal() {
        partition = [UInt8](repeating: 0, count: nodes.count)
        isPartitioned = false
        trace.absorb(0x4EA1)
    }

    /// Delivers raw bytes to node `index` now, as if they came from `source`'s address (an
    /// attacker's datagram, a replayed capture); they are handled after the events already due.
    public func inject(_ bytes: Data, to index: Int, from source: Int, as injection: Injection) {
        trace.absorb(0x1A1EC7)
        trace.absorb(index)
        trace.absorb(bytes)
        queue.push(.deliver(to: Int32(index), from: Int32(source), bytes: bytes, injected: injection), at: now.microseconds)
    }

    // MARK: Running

    /// Handles the next event, moving virtual time to it.
    ///
    /// - Returns: what happened, or `nil` if nothing is pending.
    public func step() -> StepRecord? {
        guard let entry = queue.pop() else { return nil }
        now = SimTime(microseconds: entry.time)
        steps += 1
        switch entry.payload {
        case .deliver(let to, let from, let bytes, let injection):
            let injected = injection != nil
            let index = Int(to)
            var record = StepRecord(time: now, node: index, kind: .idle)
            guard nodes[index].isUp, nodes[index].agent != nil else { return record }
            let before = nodes[index].agent!.counters.datagramsReceived
            let local = nodes[index].clock.instant(at: now)
            let source = nodes[Int(from)].endpoint
            // Mutated in place: copying the agent out would make every table it holds shared,
            // and the next write would copy it whole.
            deliveryTap?(index, Int(from), bytes)
            let fingerprintBefore = injected ? membershipFingerprint(index) : 0
            let directives = nodes[index].agent!.onDatagram(bytes, from: source, now: local)
            let accepted = nodes[index].agent!.counters.datagramsReceived > before
            if injected {
                record.fingerprints = (fingerprintBefore, membershipFingerprint(index))
                record.injection = injection
            }
            if capturesTraffic, !injected, accepted || directives.contains(.rejected(.unverifiedJoin)) {
                remember(CapturedDatagram(from: Int(from), to: index, bytes: bytes, recipientStarts: nodes[index].starts), in: &capturedAccepted)
            }
            datagramsDelivered += 1
            record.kind = .delivery(from: Int(from), accepted: accepted, injected: injected)
            let sentBefore = bytesSent
            handle(directives, from: index, into: &record)
            if injected { record.answer = (bytes.count, bytesSent - sentBefore) }
            return record
        case .wake(let node):
            let index = Int(node)
            var record = StepRecord(time: now, node: index, kind: .idle)
            guard nodes[index].isUp, nodes[index].wakeAt == entry.time, nodes[index].agent != nil else { return record }
            nodes[index].wakeAt = nil
            let local = nodes[index].clock.instant(at: now)
            let directives = nodes[index].agent!.onTick(now: local)
            record.kind = .tick
            handle(directives, from: index, into: &record)
            return record
        case .start(let node):
            let index = Int(node)
            var record = StepRecord(time: now, node: index, kind: .start)
            guard !nodes[index].isUp else {
                record.kind = .idle
                return record
            }
            boot(index, into: &record)
            return record
        case .probeDone(let node, let starts, let result):
            let index = Int(node)
            var record = StepRecord(time: now, node: index, kind: .idle)
            // A probe of an earlier run of the node (it crashed meanwhile) reaches nobody.
            guard nodes[index].isUp, nodes[index].starts == Int(starts), nodes[index].agent != nil else { return record }
            nodes[index].probesInFlight -= 1
            trace.absorb(0x9B0E)
            trace.absorb(index)
            trace.absorb(result.contentLatency?.microsecondsValue ?? -1)
            let directives = nodes[index].agent!.onProbeResult(result, now: nodes[index].clock.instant(at: now))
            record.kind = .probe
            handle(directives, from: index, into: &record)
            if nodes[index].isUp, !nodes[index].waitingProbes.isEmpty {
                launchProbe(nodes[index].waitingProbes.removeFirst(), by: index)
            }
            return record
        }
    }

    /// Runs every event up to and including `time`, then sets the clock to `time`.
    public func run(until time: SimTime) {
        while let next = queue.nextTime, next <= time.microseconds { _ = step() }
        now = max(now, time)
    }

    /// Runs for `duration` of virtual time.
    public func run(for duration: Duration) { run(until: now + duration) }

    // MARK: Inside

    /// The seeds node `index` is configured with, as an operator would write them: the first
    /// node of each neighbourhood cloud founds it (its only seed is itself), every other node
    /// names the first ``CloudConfiguration/seedCount`` nodes of its cloud.
    public func seeds(of index: Int) -> [PeerEndpoint] {
        let members = nodes(inCloud: cloud(of: index))
        guard index != members.lowerBound else { return [nodes[index].endpoint] }
        return (members.lowerBound..<min(members.lowerBound + configuration.seedCount, members.upperBound)).map { nodes[$0].endpoint }
    }

    private func boot(_ index: Int, into record: inout StepRecord) {
        let local = nodes[index].clock.instant(at: now)
        // The daemon's boot policy (AgentBoot) on the snapshot the shell would have written:
        // above the persisted incarnation and session, the quorum view and last vote restored,
        // seeds then the peers it knew as join targets.
        let boot = AgentBoot(endpoint: nodes[index].endpoint, seeds: seeds(of: index), snapshot: nodes[index].persisted, now: local)
        var settings = AgentSettings(name: "node\(index)", endpoint: nodes[index].endpoint, membership: configuration.membership)
        settings.clockSkewWindow = .seconds(600)
        if !configuration.quorumView { settings.quorum = nil }
        var agent = boot.makeAgent(
            settings: settings, signer: identities.signer(index), verifier: identities.verifier, keyring: keyring,
            seed: KeyedTag.mix(seed ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(nodes[index].starts) << 48), now: local,
            gateways: gatewaySettings?(index))
        nodes[index].isUp = true
        nodes[index].starts += 1
        nodes[index].wakeAt = nil
        nodes[index].probesInFlight = 0
        nodes[index].waitingProbes = []
        let directives = agent.start(now: local)
        nodes[index].agent = agent
        trace.absorb(0x57A7)
        trace.absorb(index)
        handle(directives, from: index, into: &record)
    }

    /// Performs node `index`'s directives through the one interpreter (``AgentHost``) on the
    /// node's ``SimulatedHost``, recording what the step reports.
    func handle(_ directives: [AgentDirective], from index: Int, into record: inout StepRecord) {
        var host = SimulatedHost(cloud: self, node: index, record: record)
        AgentHost.perform(directives, nextWakeup: nodes[index].agent?.nextWakeup, in: &host)
        record = host.record
    }

    /// A member change node `index` reported, into the trace.
    func absorb(_ change: MemberChange, reportedBy index: Int) {
        trace.absorb(0xC4A6)
        trace.absorb(index)
        trace.absorb(change.id.words0)
        trace.absorb(change.to?.hashCode ?? -1)
        trace.absorb(Int64(bitPattern: change.incarnation))
    }

    /// Starts a probe of node `index` now, or queues it behind the probes it already runs
    /// (at most ``GatewayGossipSettings/maxConcurrentProbes`` at once, as the daemon's prober).
    func requestProbe(_ probe: GatewayProbe, by index: Int) {
        let limit = max(1, nodes[index].agent?.gateways?.settings.maxConcurrentProbes ?? 1)
        if nodes[index].probesInFlight < limit {
            launchProbe(probe, by: index)
        } else {
            nodes[index].waitingProbes.append(probe)
        }
    }

    private func launchProbe(_ probe: GatewayProbe, by index: Int) {
        nodes[index].probesInFlight += 1
        let (result, duration) = prober?.measure(probe, from: index, at: now)
            ?? (ProbeResult(round: probe.round, gateway: probe.gateway.id, contentLatency: nil, failure: .connectFailed), .zero)
        queue.push(
            .probeDone(Int32(index), starts: Int32(nodes[index].starts), result),
            at: now.microseconds + max(1, duration.microsecondsValue))
    }

    /// Keeps the snapshot node `index` asked to persist, as the daemon's state directory would.
    func keep(_ snapshot: PeerSnapshot, of index: Int) {
        nodes[index].persisted = snapshot
    }

    private func remember(_ datagram: CapturedDatagram, in ring: inout [CapturedDatagram]) {
        if ring.count >= 256 { ring.removeFirst(64) }
        ring.append(datagram)
    }

    /// A hash of what node `index`'s agent knows and will do: every member's ID, state,
    /// incarnation, name and endpoint, its own incarnation, local health, whether it left, the
    /// items queued for dissemination, and its next wakeup. Counters and `lastHeard` are left out:
    /// a refused datagram is counted, and that is all it may change.
    public func membershipFingerprint(_ index: Int) -> UInt64 {
        guard let agent = nodes[index].agent else { return 0 }
        var hash = TraceHash()
        let membership = agent.membership
        hash.absorb(Int64(bitPattern: membership.incarnation))
        hash.absorb(membership.localHealthScore)
        hash.absorb(membership.hasLeft ? 1 : 0)
        hash.absorb(agent.queuedItems)
        hash.absorb(agent.nextWakeup?.milliseconds ?? -1)
        for member in membership.sortedMembers {
            hash.absorb(member.id.words0)
            hash.absorb(member.state.hashCode)
            hash.absorb(Int64(bitPattern: member.incarnation))
            hash.absorb(member.name)
            hash.absorb(member.endpoint.description)
        }
        return hash.value
    }

    /// Arms node `index`'s timer for `wakeup` on its own clock (an earlier one armed stays).
    func scheduleWake(_ index: Int, at wakeup: Instant?) {
        guard nodes[index].isUp, let wakeup else { return }
        let time = nodes[index].clock.virtualTime(reaching: wakeup, notBefore: now).microseconds
        if let pending = nodes[index].wakeAt, pending <= time { return }
        nodes[index].wakeAt = time
        queue.push(.wake(Int32(index)), at: time)
    }

    /// Puts a datagram of node `index` on the simulated network: counted, traced, then lost,
    /// delayed, reordered or duplicated as ``network`` says.
    func transmit(_ bytes: Data, from index: Int, to endpoint: PeerEndpoint) {
        transmitTap?(index, endpoint, bytes)
        datagramsSent += 1
        bytesSent += bytes.count
        trace.absorb(now.microseconds)
        trace.absorb(index)
        trace.absorb(bytes)
        guard let target = endpointIndex[endpoint] else {
            datagramsDropped += 1
            return
        }
        let to = Int(target)
        if partition[index] != partition[to] || !nodes[to].isUp || networkRandom.chance(network.lossRate) {
            datagramsDropped += 1
            if capturesTraffic {
                remember(CapturedDatagram(from: index, to: to, bytes: bytes, recipientStarts: nodes[to].starts), in: &capturedLost)
            }
            return
        }
        var delay = baseDelay(from: index, to: to).microsecondsValue
        let jitter = network.jitter.microsecondsValue
        if jitter > 0 { delay += Int64(networkRandom.below(Int(jitter))) }
        let spread = max(1, Int(network.reorderDelay.microsecondsValue))
        if networkRandom.chance(network.reorderRate) { delay += Int64(networkRandom.below(spread)) }
        queue.push(.deliver(to: target, from: Int32(index), bytes: bytes, injected: nil), at: now.microseconds + delay)
        if networkRandom.chance(network.duplicateRate) {
            queue.push(
                .deliver(to: target, from: Int32(index), bytes: bytes, injected: nil),
                at: now.microseconds + delay + Int64(networkRandom.below(spread)))
        }
    }
}

extension MemberState {
    var hashCode: Int {
        switch self {
        case .alive: 0
        case .suspect: 1
        case .failed: 2
        case .left: 3
        }
    }
}

extension NodeID {
    /// The first 8 bytes as a number (for hashing traces; the IDs are random).
    var words0: UInt64 {
        var value: UInt64 = 0
        for byte in bytes.prefix(8) { value = value << 8 | UInt64(byte) }
        return value
    }
}
