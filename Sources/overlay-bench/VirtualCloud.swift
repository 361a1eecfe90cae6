import Foundation
import OverlayCore
import OverlayCrypto
import OverlayNode
import OverlayWire

/// N real agents (libsodium signatures, the daemon's settings) exchanging datagrams in virtual
/// time, in this process: what the daemons of a loopback cloud do, without sockets or a clock.
///
/// Every datagram arrives 1 ms after it is sent and none is lost. Identities come from fixed
/// seeds, so a run is the same every time. One node's inputs can be recorded, in order, to be
/// replayed into a fresh copy of that node (``replayAgent(signer:verifier:)``): the receive
/// path measured on real traffic.
struct VirtualCloud {
    /// One input of the recorded node, in the order it happened.
    enum RecordedInput {
        case start(Instant)
        case tick(Instant)
        case datagram(Data, from: PeerEndpoint, at: Instant)
    }

    private enum Event {
        case deliver(to: Int, bytes: Data, from: PeerEndpoint)
        case wake(Int)
    }

    /// The agents, by index.
    private(set) var agents: [Agent?]
    /// Each node's endpoint (never bound: the cloud delivers by endpoint itself).
    let endpoints: [PeerEndpoint]
    /// Each node's identity.
    let identities: [NodeIdentity]
    /// The keyring every node uses: all of them.
    let keyring: Keyring
    /// The virtual clock.
    private(set) var now: Instant
    /// Datagrams and UDP payload bytes sent by each node.
    private(set) var datagramsSent: [Int]
    private(set) var bytesSent: [Int]
    /// Bytes and datagrams sent, by message kind (`ping`, `sync`, ...), to see where bytes go.
    private(set) var byKind: [String: (datagrams: Int, bytes: Int, items: Int)] = [:]
    /// Piggybacked items sent, by kind (`member`, `view-vote`, ...): copies and bytes.
    private(set) var itemsByKind: [String: (copies: Int, bytes: Int)] = [:]
    /// The recorded node's inputs (empty unless ``recorded`` is set).
    private(set) var recording: [RecordedInput] = []
    /// The node whose inputs are recorded.
    let recorded: Int?

    private let startedAt: Instant
    private var events: [(time: Int64, order: Int, event: Event)] = []
    private var order = 0
    private let index: [PeerEndpoint: Int]

    /// Creates the cloud; nodes join one after the other with ``startAll(spacing:)``.
    ///
    /// - Parameters:
    ///   - count: the number of nodes.
    ///   - recorded: the node whose inputs to record, if any.
    init(count: Int, recorded: Int? = nil) {
        identities = (0..<count).map { index in
            var seed = [UInt8](repeating: 0, count: Ed25519.seedByteCount)
            withUnsafeBytes(of: UInt64(index + 1).littleEndian) { seed.replaceSubrange(0..<8, with: $0) }
            seed[31] = 0xBE
            return try! NodeIdentity(seed: seed)
        }
        endpoints = (0..<count).map { PeerEndpoint(host: "127.0.0.1", port: UInt16(20_000 + $0)) }
        keyring = Keyring(identities.enumerated().map {
            Keyring.Entry(id: NodeID(bytes: $1.publicKey.bytes)!, label: "n\($0)")
        })
        index = Dictionary(uniqueKeysWithValues: endpoints.enumerated().map { ($1, $0) })
        // A plausible Unix time in ms, so the skew window sees ordinary clocks.
        startedAt = Instant(milliseconds: 1_796_000_000_000)
        now = startedAt
        agents = Array(repeating: nil, count: count)
        datagramsSent = Array(repeating: 0, count: count)
        bytesSent = Array(repeating: 0, count: count)
        self.recorded = recorded
    }

    /// Node `index`'s agent as created at `now`, with the given signer and verifier: the same
    /// every time for the same arguments (that is what makes a recording replayable).
    func makeAgent(_ index: Int, signer: any MessageSigner, verifier: any SignatureVerifier, now: Instant) -> Agent {
        let settings = AgentSettings(name: "n\(index)", endpoint: endpoints[index])
        return Agent(
            settings: settings, signer: signer, verifier: verifier, keyring: keyring,
            session: UInt64(now.milliseconds), incarnation: 1,
            joinTargets: index == 0 ? [] : [Destination(id: nil, endpoint: endpoints[0])],
            seed: UInt64(index + 1), now: now, bootstrapView: index == 0)
    }

    /// The signer of node `index`.
    func signer(_ index: Int) -> SodiumSigner { SodiumSigner(identity: identities[index]) }

    /// Starts every node, node 0 (the founder and everyone's seed) first, `spacing` apart,
    /// running the cloud meanwhile.
    mutating func startAll(spacing: Duration) {
        for node in agents.indices {
            var agent = makeAgent(node, signer: signer(node), verifier: SodiumVerifier(), now: now)
            if node == recorded { recording.append(.start(now)) }
            let out = agent.start(now: now)
            agents[node] = agent
            perform(out, of: node)
            schedule(node)
            run(for: spacing)
        }
    }

    /// Runs the cloud for `duration` of virtual time.
    mutating func run(for duration: Duration) {
        let end = (now + duration).milliseconds
        while let next = events.first, next.time <= end {
            popFirst()
            now = Instant(milliseconds: next.time)
            switch next.event {
            case .deliver(let to, let bytes, let from):
                guard var agent = agents[to] else { continue }
                if to == recorded { recording.append(.datagram(bytes, from: from, at: now)) }
                let out = agent.onDatagram(bytes, from: from, now: now)
                agents[to] = agent
                perform(out, of: to)
                schedule(to)
            case .wake(let node):
                guard var agent = agents[node], let due = agent.nextWakeup, due <= now else { continue }
                if node == recorded { recording.append(.tick(now)) }
                let out = agent.onTick(now: now)
                agents[node] = agent
                perform(out, of: node)
                schedule(node)
            }
        }
        now = Instant(milliseconds: end)
    }

    /// A fresh copy of the recorded node, created exactly as it was, to replay ``recording`` into.
    func replayAgent(signer: any MessageSigner, verifier: any SignatureVerifier) -> Agent? {
        guard let recorded, case .start(let at)? = recording.first else { return nil }
        return makeAgent(recorded, signer: signer, verifier: verifier, now: at)
    }

    private mutating func perform(_ directives: [AgentDirective], of node: Int) {
        for case .transmit(let bytes, let endpoint) in directives {
            datagramsSent[node] += 1
            bytesSent[node] += bytes.count
            let (kind, items) = Self.kind(of: bytes)
            byKind[kind, default: (0, 0, 0)].datagrams += 1
            byKind[kind, default: (0, 0, 0)].bytes += bytes.count
            byKind[kind, default: (0, 0, 0)].items += items.count
            for (itemKind, size) in items {
                itemsByKind[itemKind, default: (0, 0)].copies += 1
                itemsByKind[itemKind, default: (0, 0)].bytes += size
            }
            guard let to = index[endpoint] else { continue }
            push(now.milliseconds + 1, .deliver(to: to, bytes: bytes, from: endpoints[node]))
        }
    }

    /// Forgets the traffic counted by kind (to count a steady window alone).
    mutating func resetKinds() {
        byKind = [:]
        itemsByKind = [:]
    }

    /// A datagram's message kind and its piggybacked items' kinds and sizes.
    private static func kind(of bytes: Data) -> (String, [(String, Int)]) {
        guard let datagram = try? Overlayd_V1_Datagram(serializedBytes: bytes),
              let packet = try? Overlayd_V1_Packet(serializedBytes: datagram.packet) else { return ("undecodable", []) }
        let kind: String
        switch packet.message {
        case .ping?: kind = "ping"
        case .ack?: kind = "ack"
        case .pingRequest?: kind = "ping-request"
        case .nack?: kind = "nack"
        case .sync?: kind = "sync"
        case .gossip?: kind = "gossip"
        case .joinChallenge?: kind = "join-challenge"
        case nil: kind = "none"
        }
        let items = packet.items.map { signed -> (String, Int) in
            let size = ((try? signed.serializedBytes()) as Data?)?.count ?? 0
            switch (try? Overlayd_V1_Item(serializedBytes: signed.item))?.kind {
            case .member?: return ("member", size)
            case .observation?: return ("observation", size)
            case .gateway?: return ("gateway", size)
            case .selection?: return ("selection", size)
            case .viewVote?: return ("view-vote", size)
            case .keyRoll?: return ("key-roll", size)
            case .keyRevocation?: return ("key-revocation", size)
            case nil: return ("unknown", size)
            }
        }
        return (kind, items)
    }

    private mutating func schedule(_ node: Int) {
        guard let due = agents[node]?.nextWakeup else { return }
        push(max(due.milliseconds, now.milliseconds), .wake(node))
    }

    // A binary min-heap on (time, order): events at the same time run in the order queued.
    private mutating func push(_ time: Int64, _ event: Event) {
        order += 1
        events.append((time, order, event))
        var child = events.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            events.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() {
        events.swapAt(0, events.count - 1)
        events.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < events.count, less(left, smallest) { smallest = left }
            if right < events.count, less(right, smallest) { smallest = right }
            if smallest == parent { break }
            events.swapAt(parent, smallest)
            parent = smallest
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (events[a].time, events[a].order) < (events[b].time, events[b].order)
    }
}
