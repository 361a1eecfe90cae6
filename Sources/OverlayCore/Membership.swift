import Foundation
import OverlayWire

/// Where a message goes: a member (whose ID the packet names as recipient) or, while joining,
/// a bare seed endpoint whose key is not known yet.
public struct Destination: Sendable, Equatable {
    /// The recipient's ID, when known.
    public let id: NodeID?
    /// The recipient's endpoint.
    public let endpoint: PeerEndpoint

    /// Creates a destination.
    public init(id: NodeID?, endpoint: PeerEndpoint) {
        self.id = id
        self.endpoint = endpoint
    }
}

/// What ``Membership`` asks of its owner.
public enum MembershipDirective: Sendable, Equatable {
    /// Send a protocol message (with whatever items fit) to one destination.
    case send(Overlayd_V1_Packet.OneOf_Message, to: Destination)
    /// Send this node's full membership state (push-pull, memberlist 4.1) to one destination.
    case sync(to: Destination, replyWanted: Bool)
    /// Queue an item for dissemination (SWIM 4.4).
    case broadcast(SignedItem)
    /// A member changed state (or appeared, or was forgotten).
    case changed(MemberChange)
    /// This node's incarnation changed; persist it so a restart continues above it.
    case incarnationChanged(UInt64)
}

/// SWIM membership with the Lifeguard refinements, as a pure state machine.
///
/// Inputs are the decoded protocol messages and verified claims that the ``Agent`` hands over,
/// and timer ticks; outputs are ``MembershipDirective``s. It never reads a clock (every input
/// carries `now`), never draws global randomness (it owns a ``DeterministicRandom``), and never
/// does IO. References: SWIM (Das et al., DSN 2002) sections 4.1-4.4; Lifeguard (Dadgar et al.,
/// 2018) sections 3.1-3.3; memberlist for push-pull.
public struct Membership: Sendable {
    enum Timer: Sendable {
        case probeRound
        case directTimeout(UInt64)
        case probeDeadline(UInt64)
        case relayNack(UInt64)
        case relayExpiry(UInt64)
        case suspicion(NodeID, UInt64)
        case pushPull
        case join
        case reconnect
        case reap
    }

    struct OutstandingProbe: Sendable {
        let target: NodeID
        let incarnation: UInt64
        let sentAt: Instant
        var expectedNacks = 0
        /// The members asked to probe indirectly; only they (and the target) may answer.
        var relays: [NodeID] = []
        var nacks = 0
    }

    struct RelayedProbe: Sendable {
        let requester: Destination
        let requesterProbe: UInt64
        var nacked = false
    }

    /// This node's ID.
    public let localID: NodeID
    /// This node's announced name.
    public private(set) var localName: String
    /// Where this node receives datagrams, as announced.
    public private(set) var localEndpoint: PeerEndpoint
    /// This node's incarnation; only this node raises it.
    public private(set) var incarnation: UInt64
    /// The timings in force.
    public let settings: MembershipSettings
    /// The other members, by ID (this node is not among them).
    public private(set) var members: [NodeID: Member] = [:]
    /// The keys of ``members`` in ID order, kept in step with it where members are added and
    /// reaped, so that deterministic iteration and random sampling cost no sort per call (a
    /// gossip round samples members five times a second; sorting a 1,000-member table each
    /// time dominated large clouds).
    private var memberIDs: [NodeID] = []
    /// How many of ``members`` are alive or suspect, kept in step where states change: every
    /// datagram sent asks for it (the retransmit limit), and counting a 1,000-member table
    /// each time dominated large clouds.
    private var liveMembers = 0
    /// Whether this node has left gracefully.
    public private(set) var hasLeft = false
    /// This node's own latest ALIVE (or LEFT) claim.
    public private(set) var localClaim: SignedItem

    private let signer: any MessageSigner
    private var rng: DeterministicRandom
    private var timers = TimerQueue<Timer>()
    private var probeOrder: [NodeID] = []
    private var probeCursor = 0
    private var probes: [UInt64: OutstandingProbe] = [:]
    private var relays: [UInt64: RelayedProbe] = [:]
    private var suspicions: [NodeID: Suspicion] = [:]
    private var accusers: [NodeID: (incarnation: UInt64, origins: Set<NodeID>)] = [:]
    private var health: LocalHealth
    private var nextProbeNumber: UInt64 = 1
    private var joinTargets: [Destination]
    /// When the seeds that are not live members are next reached (``seedRetry(now:)``).
    private var seedBackoff: SeedBackoff

    /// Creates the membership of a starting node.
    ///
    /// - Parameters:
    ///   - name: the name this node announces.
    ///   - endpoint: where it receives datagrams.
    ///   - incarnation: at least one above any incarnation this node used before (persisted).
    ///   - signer: signs this node's claims.
    ///   - settings: timings.
    ///   - joinTargets: seeds and snapshot peers to contact until a live member is known.
    ///   - rng: the generator this instance owns.
    ///   - now: the start time.
    public init(
        name: String, endpoint: PeerEndpoint, incarnation: UInt64, signer: any MessageSigner,
        settings: MembershipSettings, joinTargets: [Destination], rng: DeterministicRandom, now: Instant
    ) {
        self.localID = signer.nodeID
        self.localName = name
        self.localEndpoint = endpoint
        self.incarnation = incarnation
        self.signer = signer
        self.settings = settings
        self.rng = rng
        self.health = LocalHealth(maximum: settings.awarenessMax)
        self.joinTargets = joinTargets
        self.seedBackoff = SeedBackoff(initial: settings.joinRetryInterval, maximum: settings.reconnectInterval)
        self.localClaim = SignedItem(
            kind: Self.aliveKind(name: name, endpoint: endpoint, incarnation: incarnation), signer: signer, now: now)
    }

    // MARK: Queries

    /// The number of members that count for the protocol's formulas: this node plus every
    /// member that is alive or suspect.
    public var liveCount: Int {
        assert(liveMembers == members.values.count { $0.state.isLive }, "live count out of step")
        return 1 + liveMembers
    }

    /// Lifeguard's local health score (0 is healthy).
    public var localHealthScore: Int { health.score }

    /// The earliest pending timer, if any.
    public var nextDeadline: Instant? { timers.nextDeadline }

    /// The members sorted by ID, for deterministic iteration.
    public var sortedMembers: [Member] { memberIDs.map { members[$0]! } }

    /// Where `id` is, or belongs, in ``memberIDs`` (binary search).
    private func insertionIndex(of id: NodeID) -> Int {
        var low = 0, high = memberIDs.count
        while low < high {
            let middle = (low + high) / 2
            if memberIDs[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Every claim this node holds, for push-pull: its own claim first, then per member the
    /// member's ALIVE claim followed by the claim that set its current state.
    public func fullState() -> [SignedItem] {
        var items = [localClaim]
        for member in sortedMembers {
            items.append(member.aliveClaim)
            if let stateClaim = member.stateClaim { items.append(stateClaim) }
        }
        return items
    }

    /// A random sample of up to `count` members that are alive or suspect, excluding `excluded`.
    ///
    /// In a large table it draws random positions until it has `count` (members are mostly
    /// alive, so a few draws suffice) and falls back to shuffling the eligible ones when the
    /// draws do not find enough.
    public mutating func randomLiveMembers(_ count: Int, excluding excluded: Set<NodeID> = []) -> [Member] {
        func eligible(_ member: Member) -> Bool {
            (member.state == .alive || member.state == .suspect) && !excluded.contains(member.id)
        }
        if count > 0, memberIDs.count > 8 * count + excluded.count {
            var chosen: [Member] = []
            var seen = Set<Int>()
            for _ in 0..<(4 * count + 8) {
                let index = Int(rng.next() % UInt64(memberIDs.count))
                guard seen.insert(index).inserted, let member = members[memberIDs[index]], eligible(member) else { continue }
                chosen.append(member)
                if chosen.count == count { return chosen }
            }
        }
        var candidates = sortedMembers.filter(eligible)
        candidates.shuffle(using: &rng)
        return Array(candidates.prefix(count))
    }

    // MARK: Start, leave, ticks

    /// Starts the protocol: announces this node, contacts the join targets and schedules the
    /// periodic timers (probe rounds start at a random offset so nodes do not probe in lockstep).
    public mutating func start(now: Instant) -> [MembershipDirective] {
        var out: [MembershipDirective] = [.broadcast(localClaim), .incarnationChanged(incarnation)]
        let offset = Double(rng.next() % 1000) / 1000
        timers.schedule(.probeRound, at: now + settings.probeInterval.scaled(by: offset))
        timers.schedule(.pushPull, at: now + settings.pushPullInterval)
        timers.schedule(.reconnect, at: now + settings.reconnectInterval)
        timers.schedule(.reap, at: now + .seconds(60))
        out += joinAttempt(now: now)
        return out
    }

    /// Leaves gracefully: signs a LEFT claim about this node and queues it. Probing stops.
    public mutating func leave(now: Instant) -> [MembershipDirective] {
        guard !hasLeft else { return [] }
        hasLeft = true
        localClaim = SignedItem(kind: Self.claimKind(subject: nil, incarnation: incarnation, state: .left), signer: signer, now: now)
        return [.broadcast(localClaim)]
    }

    /// Fires every timer whose deadline has passed.
    public mutating func onTick(now: Instant) -> [MembershipDirective] {
        var out: [MembershipDirective] = []
        while let timer = timers.popDue(now: now) {
            out += fire(timer, now: now)
        }
        return out
    }

    private mutating func fire(_ timer: Timer, now: Instant) -> [MembershipDirective] {
        switch timer {
        case .probeRound: return probeRound(now: now)
        case .directTimeout(let probe): return directTimeout(probe, now: now)
        case .probeDeadline(let probe): return probeDeadline(probe, now: now)
        case .relayNack(let probe): return relayNack(probe)
        case .relayExpiry(let probe):
            relays[probe] = nil
            return []
        case .suspicion(let id, let incarnation): return suspicionExpired(id, incarnation: incarnation, now: now)
        case .pushPull:
            timers.schedule(.pushPull, at: now + settings.pushPullInterval(memberCount: liveCount))
            guard !hasLeft, let peer = randomLiveMembers(1).first else { return [] }
            return [.sync(to: Destination(id: peer.id, endpoint: peer.endpoint), replyWanted: true)]
        case .join:
            return joinAttempt(now: now)
        case .reconnect:
            timers.schedule(.reconnect, at: now + settings.reconnectInterval)
            var failed = sortedMembers.filter { $0.state == .failed }
            guard !hasLeft, !failed.isEmpty else { return [] }
            failed.shuffle(using: &rng)
            return [.sync(to: Destination(id: failed[0].id, endpoint: failed[0].endpoint), replyWanted: true)]
        case .reap:
            timers.schedule(.reap, at: now + .seconds(60))
            return reap(now: now)
        }
    }

    private mutating func joinAttempt(now: Instant) -> [MembershipDirective] {
        timers.schedule(.join, at: now + settings.joinRetryInterval)
        guard !hasLeft else { return [] }
        guard liveMembers == 0 else { return seedRetry(now: now) }
        return joinTargets.filter { $0.id != localID && $0.endpoint != localEndpoint }.map { .sync(to: $0, replyWanted: true) }
    }

    /// Once this node knows a live member, it still reaches every configured seed that is not
    /// one, with a backoff from ``MembershipSettings/joinRetryInterval`` doubling to
    /// ``MembershipSettings/reconnectInterval`` (``SeedBackoff``): nodes that joined through
    /// another seed while this one was unreachable (radio links come up in any order) would
    /// otherwise form a cloud that never meets it, and a view that its founder is missing
    /// from. Seeds are the join targets without a known key; snapshot peers are members
    /// already (the reconnect timer retries those that failed).
    private mutating func seedRetry(now: Instant) -> [MembershipDirective] {
        let known = Set(members.values.filter { $0.state == .alive || $0.state == .suspect }.map(\.endpoint))
        let unmet = joinTargets
            .filter { $0.id == nil && $0.endpoint != localEndpoint && !known.contains($0.endpoint) }
        let due = Set(seedBackoff.due(unmet: unmet.map(\.endpoint), now: now))
        return unmet.filter { due.contains($0.endpoint) }.map { .sync(to: $0, replyWanted: true) }
    }

    private mutating func reap(now: Instant) -> [MembershipDirective] {
        var out: [MembershipDirective] = []
        for member in sortedMembers {
            let retention: Duration? = switch member.state {
            case .failed: settings.failedRetention
            case .left: settings.leftRetention
            default: nil
            }
            if let retention, now - member.stateSince >= retention {
                members[member.id] = nil
                memberIDs.remove(at: insertionIndex(of: member.id))
                accusers[member.id] = nil
                out.append(.changed(MemberChange(id: member.id, name: member.name, from: member.state, to: nil, incarnation: member.incarnation)))
            }
        }
        return out
    }

    // MARK: Probing (SWIM 4.1, 4.3; Lifeguard 3.1, 3.3)

    private mutating func probeRound(now: Instant) -> [MembershipDirective] {
        let interval = settings.probeInterval.scaled(by: health.multiplier)
        timers.schedule(.probeRound, at: now + interval)
        guard !hasLeft, let target = nextProbeTarget() else { return [] }
        let probe = nextProbeNumber
        nextProbeNumber += 1
        probes[probe] = OutstandingProbe(target: target.id, incarnation: target.incarnation, sentAt: now)
        timers.schedule(.directTimeout(probe), at: now + settings.probeTimeout.scaled(by: health.multiplier))
        timers.schedule(.probeDeadline(probe), at: now + interval)
        return [.send(.ping(.with { $0.probe = probe }), to: Destination(id: target.id, endpoint: target.endpoint))]
    }

    /// SWIM 4.3: round robin over a shuffled list, reshuffled after each full pass, so every
    /// member is probed within a bounded time.
    private mutating func nextProbeTarget() -> Member? {
        for _ in 0..<2 {
            while probeCursor < probeOrder.count {
                let id = probeOrder[probeCursor]
                probeCursor += 1
                if let member = members[id], member.state == .alive || member.state == .suspect { return member }
            }
            probeOrder = sortedMembers.filter { $0.state == .alive || $0.state == .suspect }.map(\.id)
            probeOrder.shuffle(using: &rng)
            probeCursor = 0
            if probeOrder.isEmpty { return nil }
        }
        return nil
    }

    private mutating func directTimeout(_ probe: UInt64, now: Instant) -> [MembershipDirective] {
        guard var outstanding = probes[probe], let target = members[outstanding.target] else { return [] }
        let helpers = randomLiveMembers(settings.indirectChecks, excluding: [target.id])
        outstanding.expectedNacks = helpers.count
        outstanding.relays = helpers.map(\.id)
        probes[probe] = outstanding
        let request = Overlayd_V1_PingRequest.with {
            $0.probe = probe
            $0.target = target.id.data
            $0.targetEndpoint = .with { $0.host = target.endpoint.host; $0.port = UInt32(target.endpoint.port) }
        }
        return helpers.map { .send(.pingRequest(request), to: Destination(id: $0.id, endpoint: $0.endpoint)) }
    }

    private mutating func probeDeadline(_ probe: UInt64, now: Instant) -> [MembershipDirective] {
        guard let outstanding = probes.removeValue(forKey: probe) else { return [] }
        // Lifeguard 3.3: missing nacks mean our own links are in trouble, not (only) the target.
        if outstanding.expectedNacks > 0 {
            health.apply(outstanding.expectedNacks - outstanding.nacks)
        } else {
            health.apply(1)
        }
        // Lifeguard 3.2: a failed probe of a member that is already suspect is an independent
        // confirmation (as memberlist's probeNode); applyClaim counts it once per suspector.
        guard let member = members[outstanding.target], member.incarnation == outstanding.incarnation,
              member.state == .alive || member.state == .suspect else { return [] }
        let claim = SignedItem(kind: Self.claimKind(subject: member.id, incarnation: member.incarnation, state: .suspect), signer: signer, now: now)
        return applyClaim(claim, now: now)
    }

    /// Answers a direct probe.
    public mutating func onPing(probe: UInt64, from sender: NodeID, source: PeerEndpoint) -> [MembershipDirective] {
        [.send(.ack(.with { $0.probe = probe }), to: Destination(id: sender, endpoint: source))]
    }

    /// Handles an ack: completes our own probe, or forwards it to the member we relay for.
    public mutating func onAck(probe: UInt64, from sender: NodeID, now: Instant) -> [MembershipDirective] {
        if let outstanding = probes[probe] {
            // Only the target, or a member we asked to relay, can answer this probe.
            guard sender == outstanding.target || outstanding.relays.contains(sender) else { return [] }
            probes[probe] = nil
            health.apply(-1)
            if sender == outstanding.target, var member = members[sender] {
                let sample = now - outstanding.sentAt
                if let previous = member.roundTrip {
                    member.roundTrip = .milliseconds(previous.milliseconds + (sample.milliseconds - previous.milliseconds) / 8)
                } else {
                    member.roundTrip = sample
                }
                members[sender] = member
            }
            return []
        }
        if let relay = relays.removeValue(forKey: probe) {
            return [.send(.ack(.with { $0.probe = relay.requesterProbe }), to: relay.requester)]
        }
        return []
    }

    /// Probes a target on another member's behalf (SWIM 4.1 indirect probe).
    public mutating func onPingRequest(_ request: Overlayd_V1_PingRequest, from sender: NodeID, source: PeerEndpoint, now: Instant) -> [MembershipDirective] {
        guard !hasLeft, let target = NodeID(bytes: request.target), target != localID,
              request.targetEndpoint.port > 0, request.targetEndpoint.port <= UInt32(UInt16.max) else { return [] }
        let endpoint = members[target]?.endpoint
            ?? PeerEndpoint(host: request.targetEndpoint.host, port: UInt16(request.targetEndpoint.port))
        let probe = nextProbeNumber
        nextProbeNumber += 1
        relays[probe] = RelayedProbe(requester: Destination(id: sender, endpoint: source), requesterProbe: request.probe)
        // Lifeguard 3.3: nack at 80% of the probe timeout, leaving the requester time to hear it.
        timers.schedule(.relayNack(probe), at: now + settings.probeTimeout.scaled(by: 0.8))
        timers.schedule(.relayExpiry(probe), at: now + settings.probeInterval.scaled(by: 2))
        return [.send(.ping(.with { $0.probe = probe }), to: Destination(id: target, endpoint: endpoint))]
    }

    private mutating func relayNack(_ probe: UInt64) -> [MembershipDirective] {
        guard var relay = relays[probe], !relay.nacked else { return [] }
        relay.nacked = true
        relays[probe] = relay
        return [.send(.nack(.with { $0.probe = relay.requesterProbe }), to: relay.requester)]
    }

    /// Counts a nack for one of our indirect probes.
    public mutating func onNack(probe: UInt64) {
        probes[probe]?.nacks += 1
    }

    /// Answers a push-pull: with this node's full state if the sender asked for it.
    ///
    /// - Parameters:
    ///   - replyWanted: whether the sender asked for this node's state.
    ///   - sender: who sent it.
    ///   - source: the address it came from.
    ///   - replyToSource: answer at `source` rather than at the endpoint the sender announced
    ///     (a join, whose cookie proved that `source` receives).
    public mutating func onSync(replyWanted: Bool, from sender: NodeID, source: PeerEndpoint, replyToSource: Bool = false) -> [MembershipDirective] {
        guard replyWanted else { return [] }
        let endpoint = replyToSource ? source : members[sender]?.endpoint ?? source
        return [.sync(to: Destination(id: sender, endpoint: endpoint), replyWanted: false)]
    }

    // MARK: Claims (SWIM 4.2)

    /// Applies a verified membership claim (the ``Agent`` has checked its signature and origin).
    ///
    /// - Returns: the directives, or `nil` if the claim breaks a rule (ALIVE or LEFT signed by
    ///   someone other than its subject, an unknown state).
    public mutating func onClaim(_ item: SignedItem, now: Instant) -> [MembershipDirective]? {
        guard case .member(let claim)? = item.item.kind, let state = MemberState(wire: claim.state) else { return nil }
        let subject = claim.subject.isEmpty ? item.origin : NodeID(bytes: claim.subject)
        guard let subject else { return nil }
        if state == .alive || state == .left {
            guard subject == item.origin else { return nil }
            if state == .alive {
                guard claim.endpoint.port > 0, claim.endpoint.port <= UInt32(UInt16.max), !claim.endpoint.host.isEmpty else { return nil }
            }
        }
        return applyClaim(item, now: now)
    }

    private mutating func applyClaim(_ item: SignedItem, now: Instant) -> [MembershipDirective] {
        guard case .member(let claim)? = item.item.kind, let state = MemberState(wire: claim.state) else { return [] }
        let subject = claim.subject.isEmpty ? item.origin : NodeID(bytes: claim.subject)!
        if subject == localID { return claimAboutSelf(claim, state: state, origin: item.origin, now: now) }

        guard var member = members[subject] else {
            guard state == .alive else { return [] }
            let endpoint = PeerEndpoint(host: claim.endpoint.host, port: UInt16(claim.endpoint.port))
            memberIDs.insert(subject, at: insertionIndex(of: subject))
            liveMembers += 1
            members[subject] = Member(
                id: subject, name: claim.name, endpoint: endpoint, state: .alive, incarnation: claim.incarnation,
                stateSince: now, lastHeard: nil, roundTrip: nil, aliveClaim: item, stateClaim: nil)
            // SWIM 4.3: a new member joins the probe order at a random position.
            probeOrder.insert(subject, at: Int(rng.next() % UInt64(probeOrder.count + 1)))
            return [.broadcast(item), .changed(MemberChange(id: subject, name: claim.name, from: nil, to: .alive, incarnation: claim.incarnation))]
        }

        if state == .suspect || state == .failed, claim.incarnation >= member.incarnation {
            recordAccuser(item.origin, of: subject, incarnation: claim.incarnation)
        }
        let incoming = (claim.incarnation, state.rank)
        guard incoming > member.precedence else {
            // Lifeguard 3.2: the same suspicion from another member is an independent confirmation.
            if state == .suspect, member.state == .suspect, claim.incarnation == member.incarnation,
               var suspicion = suspicions[subject], suspicion.confirm(by: item.origin) {
                suspicions[subject] = suspicion
                timers.schedule(.suspicion(subject, claim.incarnation), at: suspicion.deadline)
                return [.broadcast(item)]
            }
            return []
        }

        let previous = member.state
        member.incarnation = claim.incarnation
        member.state = state
        if previous != state { member.stateSince = now }
        switch state {
        case .alive:
            member.aliveClaim = item
            member.stateClaim = nil
            member.name = claim.name
            member.endpoint = PeerEndpoint(host: claim.endpoint.host, port: UInt16(claim.endpoint.port))
            suspicions[subject] = nil
        case .suspect:
            member.stateClaim = item
            let count = liveCount
            let suspicion = Suspicion(
                incarnation: claim.incarnation, by: item.origin, start: now,
                min: settings.suspicionMinTimeout(memberCount: count), max: settings.suspicionMaxTimeout(memberCount: count),
                expectedConfirmations: settings.expectedConfirmations(memberCount: count))
            suspicions[subject] = suspicion
            timers.schedule(.suspicion(subject, claim.incarnation), at: suspicion.deadline)
        case .failed, .left:
            member.stateClaim = item
            suspicions[subject] = nil
        }
        liveMembers += (state.isLive ? 1 : 0) - (previous.isLive ? 1 : 0)
        members[subject] = member
        var out: [MembershipDirective] = [.broadcast(item)]
        if previous != state {
            out.append(.changed(MemberChange(id: subject, name: member.name, from: previous, to: state, incarnation: member.incarnation)))
        }
        return out
    }

    private mutating func claimAboutSelf(_ claim: Overlayd_V1_MemberClaim, state: MemberState, origin: NodeID, now: Instant) -> [MembershipDirective] {
        guard !hasLeft else { return [] }
        let refute: Bool = switch state {
        // Our own ALIVE claim from before a restart with a higher incarnation: continue above it.
        case .alive: claim.incarnation > incarnation
        case .suspect, .failed, .left: claim.incarnation >= incarnation
        }
        guard refute else { return [] }
        if state != .alive { health.apply(1) }
        incarnation = claim.incarnation + 1
        localClaim = SignedItem(kind: Self.aliveKind(name: localName, endpoint: localEndpoint, incarnation: incarnation), signer: signer, now: now)
        return [.broadcast(localClaim), .incarnationChanged(incarnation)]
    }

    private mutating func suspicionExpired(_ id: NodeID, incarnation: UInt64, now: Instant) -> [MembershipDirective] {
        guard let member = members[id], member.state == .suspect, member.incarnation == incarnation,
              let suspicion = suspicions[id], suspicion.incarnation == incarnation, suspicion.deadline <= now else { return [] }
        let claim = SignedItem(kind: Self.claimKind(subject: id, incarnation: incarnation, state: .failed), signer: signer, now: now)
        return applyClaim(claim, now: now)
    }

    /// Remembers who reported `subject` unreachable (a SUSPECT or FAILED claim) at one incarnation.
    private mutating func recordAccuser(_ origin: NodeID, of subject: NodeID, incarnation: UInt64) {
        if let known = accusers[subject], known.incarnation == incarnation {
            accusers[subject]?.origins.insert(origin)
        } else if (accusers[subject]?.incarnation ?? 0) <= incarnation {
            accusers[subject] = (incarnation, [origin])
        }
    }

    /// How many distinct members reported `id` unreachable at its current incarnation: the
    /// independent observers the quorum view requires before it removes a member (as Rapid's
    /// multi-observer cut detection).
    public func accuserCount(of id: NodeID) -> Int {
        guard let member = members[id], let known = accusers[id], known.incarnation == member.incarnation else { return 0 }
        return known.origins.count
    }

    /// Records that a verified datagram arrived from `id`.
    public mutating func heard(from id: NodeID, now: Instant) {
        members[id]?.lastHeard = now
    }

    // MARK: Claim construction

    static func aliveKind(name: String, endpoint: PeerEndpoint, incarnation: UInt64) -> Overlayd_V1_Item.OneOf_Kind {
        .member(.with {
            $0.incarnation = incarnation
            $0.state = .alive
            $0.endpoint = .with { $0.host = endpoint.host; $0.port = UInt32(endpoint.port) }
            $0.name = name
        })
    }

    static func claimKind(subject: NodeID?, incarnation: UInt64, state: MemberState) -> Overlayd_V1_Item.OneOf_Kind {
        .member(.with {
            if let subject { $0.subject = subject.data }
            $0.incarnation = incarnation
            $0.state = state.wire
        })
    }
}
