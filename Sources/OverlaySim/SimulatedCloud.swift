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
        /// seed's key yet), sent to another node. Not in ``standard``: the core accepts it once
        /// per receiver by design of the join; `Docs/results.md` discusses it.
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
    /// The last datagrams that reached their recipient and were accepted (at most 256).
    public private(set) var capturedAccepted: [CapturedDatagram] = []
    /// The last datagrams lost on the way, never delivered (at most 256).
    public private(set) var capturedLost: [CapturedDatagram] = []

    /// Called with every datagram handed to an agent (recipient, sender, bytes), before the
    /// agent sees it: for tracing a run, never for deciding anything.
    public var deliveryTap: ((Int, Int, Data) -> Void)?
    /// Called with every datagram an agent asks to send (sender, endpoint, bytes): for tracing.
    public var transmitTap: ((Int, PeerEndpoint, Data) -> Void)?

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
            if capturesTraffic, accepted, !injected {
                remember(CapturedDatagram(from: Int(from), to: index, bytes: bytes, recipientStarts: nodes[index].starts), in: &capturedAccepted)
            }
            datagramsDelivered += 1
            record.kind = .delivery(from: Int(from), accepted: accepted, injected: injected)
            handle(directives, from: index, into: &record)
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

    private func boot(_ index: Int, into record: inout StepRecord) {
        let clock = nodes[index].clock
        let local = clock.instant(at: now)
        let signer = identities.signer(index)
        let snapshot = nodes[index].persisted
        // A restart continues above its persisted incarnation and session, restores its quorum
        // view and last vote, and rejoins through the seeds and the peers it knew (as the daemon
        // does with its state directory). The cloud's first node founds the view, as a daemon
        // started without seeds does; the others learn it from a member.
        let incarnation = (snapshot?.incarnation ?? 0) + 1
        let session = max((snapshot?.session ?? 0) + 1, UInt64(max(0, local.milliseconds)))
        let members = nodes(inCloud: cloud(of: index))
        var targets = (members.lowerBound..<min(members.lowerBound + configuration.seedCount, members.upperBound)).filter { $0 != index }.map {
            Destination(id: nil, endpoint: nodes[$0].endpoint)
        }
        if let snapshot { targets += snapshot.joinTargets }
        var settings = AgentSettings(name: "node\(index)", endpoint: nodes[index].endpoint, membership: configuration.membership)
        settings.clockSkewWindow = .seconds(600)
        if !configuration.quorumView { settings.quorum = nil }
        var agent = Agent(
            settings: settings, signer: signer, verifier: identities.verifier, keyring: keyring, session: session,
            incarnation: incarnation, joinTargets: targets,
            seed: KeyedTag.mix(seed ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(nodes[index].starts) << 48),
            now: local, restoredView: snapshot?.view, bootstrapView: index == members.lowerBound)
        nodes[index].isUp = true
        nodes[index].starts += 1
        nodes[index].wakeAt = nil
        let directives = agent.start(now: local)
        nodes[index].agent = agent
        trace.absorb(0x57A7)
        trace.absorb(index)
        handle(directives, from: index, into: &record)
    }

    private func handle(_ directives: [AgentDirective], from index: Int, into record: inout StepRecord) {
        for directive in directives {
            switch directive {
            case .transmit(let bytes, let endpoint):
                transmit(bytes, from: index, to: endpoint)
            case .memberChanged(let change):
                record.changes.append(change)
                trace.absorb(0xC4A6)
                trace.absorb(index)
                trace.absorb(change.id.words0)
                trace.absorb(change.to?.hashCode ?? -1)
                trace.absorb(Int64(bitPattern: change.incarnation))
            case .persist(let snapshot):
                nodes[index].persisted = snapshot
            case .rejected(let reason):
                record.rejections.append(reason)
            default:
                // Directives of other subsystems (the quorum view, gateways) are for the shell's
                // logs and API; their effects on the network are the datagrams above.
                break
            }
        }
        scheduleWake(index)
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

    private func scheduleWake(_ index: Int) {
        guard nodes[index].isUp, let wakeup = nodes[index].agent?.nextWakeup else { return }
        let time = nodes[index].clock.virtualTime(reaching: wakeup, notBefore: now).microseconds
        if let pending = nodes[index].wakeAt, pending <= time { return }
        nodes[index].wakeAt = time
        queue.push(.wake(Int32(index)), at: time)
    }

    private func transmit(_ bytes: Data, from index: Int, to endpoint: PeerEndpoint) {
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
