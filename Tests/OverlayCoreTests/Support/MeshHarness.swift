import Foundation
import OverlayWire
import SwiftProtobuf
@testable import OverlayCore

/// What a datagram carried, decoded without checking anything (for assertions and drop rules).
enum PacketKind: Equatable, Sendable {
    case ping(probe: UInt64)
    case ack(probe: UInt64)
    case pingRequest(probe: UInt64, target: NodeID?)
    case nack(probe: UInt64)
    case sync(replyWanted: Bool)
    case gossip
    case joinChallenge
    case none

    /// Decodes the datagram's packet; `nil` if it does not decode.
    static func of(_ bytes: Data) -> (kind: PacketKind, packet: Overlayd_V1_Packet)? {
        guard let datagram = try? Overlayd_V1_Datagram(serializedBytes: bytes),
              let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return nil }
        let kind: PacketKind = switch packet.message {
        case .ping(let ping)?: .ping(probe: ping.probe)
        case .ack(let ack)?: .ack(probe: ack.probe)
        case .pingRequest(let request)?: .pingRequest(probe: request.probe, target: NodeID(bytes: request.target))
        case .nack(let nack)?: .nack(probe: nack.probe)
        case .sync(let sync)?: .sync(replyWanted: sync.replyWanted)
        case .gossip?: .gossip
        case .joinChallenge?: .joinChallenge
        case nil: .none
        }
        return (kind, packet)
    }

    var isPing: Bool { if case .ping = self { true } else { false } }
    var isNack: Bool { if case .nack = self { true } else { false } }
    var isAck: Bool { if case .ack = self { true } else { false } }
    func isPingRequest(target: NodeID) -> Bool {
        if case .pingRequest(_, let requested) = self { requested == target } else { false }
    }
}

/// An in-memory network of ``Agent``s on virtual time.
///
/// Deterministic by construction: nodes are iterated by index, datagrams are delivered in the
/// order they were sent (one fixed latency), and the only randomness (loss) comes from a
/// ``DeterministicRandom`` seeded by the harness seed. Each step moves time to the earliest of
/// the next delivery and every live agent's ``Agent/nextWakeup``, delivers what is due, then
/// ticks every agent whose wakeup has passed.
struct MeshHarness {
    struct Node {
        let index: Int
        /// Signs as the node (its successor key after ``MeshHarness/rollKey(_:to:overlap:handover:)``).
        var signer: FakeSigner
        let endpoint: PeerEndpoint
        var agent: Agent
        /// A crashed node neither ticks, sends nor receives.
        var crashed = false
        /// The last snapshot the agent asked to persist, as the shell would have written it.
        var persisted: PeerSnapshot?
    }

    /// One datagram an agent transmitted.
    struct Transmission {
        let time: Instant
        let from: Int
        let to: Int?
        let kind: PacketKind?
        let size: Int
        let dropped: Bool
    }

    /// One ``AgentDirective/memberChanged(_:)`` an agent reported.
    struct ObservedChange {
        let time: Instant
        let observer: Int
        let change: MemberChange
    }

    private struct InFlight {
        let deliverAt: Instant
        let from: Int
        let to: Int
        let bytes: Data
    }

    /// Unix ms of virtual time zero: realistic enough for `sent_at_ms` and `issued_at_ms`.
    static let epoch = Instant(milliseconds: 1_700_000_000_000)

    let keyring: Keyring
    let settings: MembershipSettings
    let seed: UInt64
    private(set) var now: Instant
    private(set) var nodes: [Node] = []
    /// One-way delay of every datagram.
    var latency: Duration = .milliseconds(5)
    /// The fraction of datagrams lost at random (seeded).
    var lossRate: Double = 0
    /// Drops a datagram `(from, to, kind)` when it returns `true`.
    var dropRule: ((Int, Int, PacketKind?) -> Bool)?

    /// The node whose directives are being performed.
    private var acting = 0
    private var lossRandom: DeterministicRandom
    private var endpointIndex: [PeerEndpoint: Int] = [:]
    private var inFlight: [InFlight] = []
    private(set) var transmissions: [Transmission] = []
    private(set) var changes: [ObservedChange] = []
    private(set) var rejections: [(node: Int, reason: RejectReason)] = []
    /// Every view committed or adopted, by whom and when.
    private(set) var views: [(time: Instant, observer: Int, view: CommittedView)] = []
    /// FNV-1a over every transmitted datagram (sender index, endpoint, bytes), in order.
    private(set) var digest: UInt64 = 0xCBF2_9CE4_8422_2325

    /// Creates `count` agents: node 0 is the seed; every other node joins through it.
    init(count: Int, seed: UInt64, settings: MembershipSettings = .radio, keyringExtra: Int = 0, operators: Set<Int> = []) {
        var keyring = TestKeys.keyring(count: count + keyringExtra)
        for index in operators {
            keyring.insert(Keyring.Entry(id: TestKeys.id(index), label: "node\(index)", mayRevoke: true))
        }
        self.keyring = keyring
        self.settings = settings
        self.seed = seed
        self.now = Self.epoch
        self.lossRandom = DeterministicRandom(seed: seed ^ 0x10_55)
        for index in 0..<count {
            let signer = TestKeys.signer(index)
            let endpoint = TestKeys.endpoint(index)
            let seeds = index == 0 ? [] : [TestKeys.endpoint(0)]
            let agent = Self.boot(index: index, signer: signer, keyring: keyring, settings: settings, seeds: seeds, snapshot: nil, seed: seed, now: now)
            nodes.append(Node(index: index, signer: signer, endpoint: endpoint, agent: agent))
            endpointIndex[endpoint] = index
        }
    }

    /// An agent started by the daemon's boot policy (``AgentBoot``).
    static func boot(
        index: Int, signer: FakeSigner, keyring: Keyring, settings: MembershipSettings, seeds: [PeerEndpoint],
        snapshot: PeerSnapshot?, seed: UInt64, now: Instant
    ) -> Agent {
        let boot = AgentBoot(endpoint: TestKeys.endpoint(index), seeds: seeds, snapshot: snapshot, now: now)
        return boot.makeAgent(
            settings: AgentSettings(name: "node\(index)", endpoint: TestKeys.endpoint(index), membership: settings),
            signer: signer, verifier: FakeVerifier(), keyring: keyring,
            seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index) &+ boot.session, now: now)
    }

    // MARK: Actions

    /// Starts every agent at the current time, in index order.
    mutating func startAll() {
        for index in nodes.indices { start(index) }
    }

    mutating func start(_ index: Int) {
        let directives = nodes[index].agent.start(now: now)
        handle(directives, from: index)
    }

    /// Crashes a node: it stops ticking and every datagram to or from it is lost.
    mutating func crash(_ index: Int) { nodes[index].crashed = true }

    /// Makes the node leave gracefully and then stop, as the daemon does on SIGTERM.
    mutating func leave(_ index: Int) {
        let directives = nodes[index].agent.leave(now: now)
        handle(directives, from: index)
        nodes[index].crashed = true
    }

    /// Rolls node `index`'s key as the daemon does: announces the roll under the old key, lets
    /// it spread for `handover`, then the node leaves under its old key and continues under
    /// `successor` (``Agent/continuation(as:seed:now:)``).
    mutating func rollKey(_ index: Int, to successor: FakeSigner, overlap: Duration, handover: Duration) throws {
        let (_, directives) = try nodes[index].agent.announceKeyRoll(to: successor.nodeID, overlap: overlap, now: now)
        handle(directives, from: index)
        run(for: handover)
        handle(nodes[index].agent.leave(now: now), from: index)
        nodes[index].agent = nodes[index].agent.continuation(as: successor, seed: seed &+ UInt64(index) &+ 0x5EED, now: now)
        nodes[index].signer = successor
        start(index)
    }

    /// Calls into node `index`'s agent and performs the directives it returns (a test's own
    /// input, such as a revocation).
    mutating func act(_ index: Int, _ input: (inout Agent, Instant) throws -> [AgentDirective]) rethrows {
        let directives = try input(&nodes[index].agent, now)
        handle(directives, from: index)
    }

    /// Restarts a crashed node from its persisted snapshot with no seed configured: a new
    /// session, the next incarnation, and only the snapshot's peers as join targets.
    mutating func restartFromSnapshot(_ index: Int) {
        nodes[index].agent = Self.boot(
            index: index, signer: nodes[index].signer, keyring: keyring, settings: settings, seeds: [],
            snapshot: nodes[index].persisted!, seed: seed, now: now)
        nodes[index].crashed = false
        start(index)
    }

    /// Runs until `deadline`, or until `condition` holds (checked before each step).
    ///
    /// - Returns: whether `condition` held (always `false` without one).
    @discardableResult
    mutating func run(until deadline: Instant, stopWhen condition: ((MeshHarness) -> Bool)? = nil) -> Bool {
        while true {
            if let condition, condition(self) { return true }
            var next = inFlight.first?.deliverAt
            for node in nodes where !node.crashed {
                if let wakeup = node.agent.nextWakeup { next = min(next ?? wakeup, wakeup) }
            }
            guard let due = next, max(due, now) <= deadline else {
                now = max(now, deadline)
                return condition?(self) ?? false
            }
            now = max(now, due)
            step()
        }
    }

    @discardableResult
    mutating func run(for duration: Duration, stopWhen condition: ((MeshHarness) -> Bool)? = nil) -> Bool {
        run(until: now + duration, stopWhen: condition)
    }

    private mutating func step() {
        while let first = inFlight.first, first.deliverAt <= now {
            inFlight.removeFirst()
            guard !nodes[first.to].crashed else { continue }
            let directives = nodes[first.to].agent.onDatagram(first.bytes, from: nodes[first.from].endpoint, now: now)
            handle(directives, from: first.to)
        }
        for index in nodes.indices where !nodes[index].crashed {
            if let wakeup = nodes[index].agent.nextWakeup, wakeup <= now {
                handle(nodes[index].agent.onTick(now: now), from: index)
            }
        }
    }

    /// Performs node `index`'s directives through the one interpreter (``AgentHost``), with
    /// this harness as the node's environment.
    private mutating func handle(_ directives: [AgentDirective], from index: Int) {
        acting = index
        let wakeup = nodes[index].agent.nextWakeup
        AgentHost.perform(directives, nextWakeup: wakeup, in: &self)
    }

    private mutating func send(_ bytes: Data, from index: Int, to endpoint: PeerEndpoint) {
        absorb(UInt64(index))
        for byte in endpoint.description.utf8 { absorb(UInt64(byte)) }
        bytes.withUnsafeBytes { raw in for byte in raw { absorb(UInt64(byte)) } }

        let recipient = endpointIndex[endpoint]
        let kind = PacketKind.of(bytes)?.kind
        let unlucky = lossRate > 0 && Double(lossRandom.next() >> 11) / Double(1 << 53) < lossRate
        var dropped = unlucky || nodes[index].crashed
        if let recipient {
            dropped = dropped || nodes[recipient].crashed || (dropRule?(index, recipient, kind) ?? false)
        } else {
            dropped = true
        }
        transmissions.append(Transmission(time: now, from: index, to: recipient, kind: kind, size: bytes.count, dropped: dropped))
        if !dropped, let recipient {
            inFlight.append(InFlight(deliverAt: now + latency, from: index, to: recipient, bytes: bytes))
        }
    }

    private mutating func absorb(_ value: UInt64) {
        digest = (digest ^ value) &* 0x0000_0100_0000_01B3
    }

    // MARK: Queries (the environment is in an extension below)

    /// How `observer` sees `subject` now.
    func member(_ subject: Int, seenBy observer: Int) -> Member? {
        nodes[observer].agent.membership.members[TestKeys.id(subject)]
    }

    func state(of subject: Int, seenBy observer: Int) -> MemberState? { member(subject, seenBy: observer)?.state }

    /// The indices of nodes that are running.
    var running: [Int] { nodes.indices.filter { !nodes[$0].crashed } }

    /// Whether every running node other than `subject` sees `subject` in `state`.
    func everyoneElse(sees subject: Int, as state: MemberState, incarnation: UInt64? = nil) -> Bool {
        running.filter { $0 != subject }.allSatisfy { observer in
            guard let member = member(subject, seenBy: observer), member.state == state else { return false }
            return incarnation.map { member.incarnation == $0 } ?? true
        }
    }

    /// Whether every running node sees every other running node alive.
    var allRunningSeeEachOtherAlive: Bool {
        running.allSatisfy { observer in
            running.filter { $0 != observer }.allSatisfy { state(of: $0, seenBy: observer) == .alive }
        }
    }

    /// The states `observer` reported for `subject`, in order (`nil`: forgotten).
    func reportedStates(of subject: Int, seenBy observer: Int) -> [MemberState?] {
        changes.filter { $0.observer == observer && $0.change.id == TestKeys.id(subject) }.map(\.change.to)
    }

    /// Every change any node reported about `subject`.
    func changes(about subject: Int) -> [ObservedChange] {
        changes.filter { $0.change.id == TestKeys.id(subject) }
    }
}

/// The harness as every node's ``AgentEnvironment``: datagrams into the in-memory network,
/// snapshots kept per node, changes, refusals and views logged for assertions.
extension MeshHarness: AgentEnvironment {
    mutating func transmit(_ bytes: Data, to endpoint: PeerEndpoint) {
        send(bytes, from: acting, to: endpoint)
    }

    mutating func persist(_ snapshot: PeerSnapshot) {
        nodes[acting].persisted = snapshot
    }

    mutating func publish(_ event: AgentEvent) {
        switch event {
        case .memberChanged(let change):
            changes.append(ObservedChange(time: now, observer: acting, change: change))
        case .rejected(let reason):
            rejections.append((acting, reason))
        case .viewChanged(let view, _):
            views.append((time: now, observer: acting, view: view))
        case .quorumChanged, .selectionDecided:
            break
        }
    }

    mutating func probe(_ probe: GatewayProbe) {
        // The harness's agents run without gateway selection (GatewayCloud probes for those
        // tests), so none asks for a probe.
    }

    mutating func schedule(wakeup: Instant?) {
        // Nothing to arm: every step reads each running agent's nextWakeup.
    }
}
