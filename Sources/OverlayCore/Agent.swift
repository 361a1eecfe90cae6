import Foundation
import OverlayWire

/// The settings of one agent that are not membership timings.
public struct AgentSettings: Sendable, Equatable {
    /// The name this node announces.
    public var name: String
    /// Where this node receives datagrams, as announced to the others.
    public var endpoint: PeerEndpoint
    /// SWIM and Lifeguard timings.
    public var membership: MembershipSettings = .radio
    /// How far a sender's clock may be from ours before its datagrams are refused. Default
    /// 10 minutes: it bounds how long a captured datagram can be replayed to a node that has
    /// just restarted, yet tolerates the drift of boxes without a real-time clock that wait
    /// for NTP. `nil` disables the check.
    public var clockSkewWindow: Duration? = .seconds(600)
    /// Datagrams per second one sender may sustain. Default 200: SWIM sends about 2 per
    /// second, a push-pull of 1,000 members about 150 at once.
    public var senderRatePerSecond: Double = 200
    /// Datagrams one sender may send in a burst. Default 400.
    public var senderBurst: Double = 400
    /// The quorum view's thresholds; `nil` runs SWIM membership alone (the simulator's scale
    /// runs do, to study dissemination at 10,000 nodes). Default: matched to the membership
    /// timings (``QuorumViewSettings/matching(_:)``).
    public var quorum: QuorumViewSettings?

    /// Creates settings with the defaults above.
    public init(name: String, endpoint: PeerEndpoint, membership: MembershipSettings = .radio) {
        self.name = name
        self.endpoint = endpoint
        self.membership = membership
        self.quorum = .matching(membership)
    }
}

/// What the ``Agent`` asks the shell to do.
public enum AgentDirective: Sendable, Equatable {
    /// Send these bytes as one UDP datagram.
    case transmit(Data, to: PeerEndpoint)
    /// A member changed state; log it, count it, tell event subscribers.
    case memberChanged(MemberChange)
    /// Write this snapshot to the state directory (crash-safely).
    case persist(PeerSnapshot)
    /// A datagram or item was refused; count it under the reason.
    case rejected(RejectReason)
    /// The quorum view committed (or adopted) a new view.
    case viewChanged(CommittedView, previous: CommittedView?)
    /// Quorum was gained or lost, or the number of reachable view members changed.
    case quorumChanged(QuorumStatus)
    /// Gateway selection work for the shell: run a probe, or a round was decided
    /// (`Agent+Gateways.swift`).
    case gateway(GatewayDirective)
}

/// Counters the agent keeps about its own traffic (the shell exports them as metrics too).
public struct AgentCounters: Sendable, Equatable {
    /// Datagrams sent.
    public var datagramsSent = 0
    /// Bytes sent (UDP payload).
    public var bytesSent = 0
    /// Datagrams accepted.
    public var datagramsReceived = 0
    /// Bytes received in accepted datagrams.
    public var bytesReceived = 0
    /// Item signatures verified.
    public var itemsVerified = 0
    /// Items dropped as already seen, without verification.
    public var itemsDuplicate = 0
    /// Refusals by reason.
    public var rejected: [RejectReason: Int] = [:]
}

/// One node's protocol core: the signed datagram layer around SWIM membership.
///
/// This is the instance the shell owns (one actor per node) and the simulator runs by the
/// thousand. Bytes come in with ``onDatagram(_:from:now:)``, time with ``onTick(now:)``; what
/// must happen leaves as ``AgentDirective``s. The shell calls ``onTick(now:)`` whenever
/// ``nextWakeup`` passes. Pure: no clock, no IO, no global randomness.
public struct Agent: Sendable {
    /// The settings in force.
    public let settings: AgentSettings
    /// SWIM membership.
    public internal(set) var membership: Membership
    /// The quorum view, unless disabled in the settings.
    public internal(set) var quorumView: QuorumView?
    /// Gateway observations, announcements and the selector, when gateway selection is on.
    public internal(set) var gateways: GatewayGossip?
    /// Traffic counters.
    public internal(set) var counters = AgentCounters()
    /// Admitted keys whose datagrams or relayed items failed verification (reported by the API).
    public private(set) var verificationFailures = VerificationFailures()

    var codec: DatagramCodec
    let verifier: any SignatureVerifier
    /// Answers joins from unverified addresses with a challenge (``JoinGate``).
    let joinGate: JoinGate
    /// The cookies seeds issued to this node, for its own joins (``JoinCookieJar``).
    var joinCookies = JoinCookieJar()
    var dissemination = Dissemination(maxItemSize: Agent.maxItemSize)
    private var verified = VerifiedItemCache()
    private var nextGossip: Instant?
    /// When the coalesced snapshot of membership changes is due (see ``snapshotCoalescing``).
    private var snapshotDueAt: Instant?

    /// Membership changes are persisted at most this often: a change marks the snapshot due
    /// this long after the previous one. 1 s: joining a cloud of N members changes the peer
    /// list N times, and writing the whole list each time costs O(N²); a crash loses at most
    /// a second of peer-list changes, which only serve as rejoin targets. A new incarnation
    /// or a vote is persisted at once (a restart must start above it, and a vote must be
    /// durable before it is sent).
    public static let snapshotCoalescing: Duration = .seconds(1)
    private var lastSnapshotAt: Instant?
    /// When this node last asked a member for a newer view it saw stated (at most once a second).
    var lastCatchUpAt: Instant?
    /// The peers of the snapshot this run started from, written into this run's snapshots too
    /// until this node knows a live member. Without them, a box that restarted and was cut
    /// off (or lost power) again before it met anyone persisted an empty peer list, and its
    /// next start knew only its seeds: with those down, nobody could ever reach it again
    /// (chaos seed 510, where node 4's seeds stayed down). Once it has met a live member,
    /// push-pull gives it every member and the table is the truth again.
    private var rememberedPeers: [PeerSnapshot.Peer]
    var rng: DeterministicRandom

    /// The largest signed item that fits a datagram alone, leaving room for the packet header:
    /// 80 bytes for the codec's fields, the message and the item's framing, and 24 for the
    /// stated view (epoch as a varint of up to 10 bytes and an 8-byte lineage, with their tags).
    public static let maxItemSize = DatagramCodec.packetBudget - 104

    /// Creates an agent.
    ///
    /// - Parameters:
    ///   - settings: name, endpoint and timings.
    ///   - signer: signs as this node.
    ///   - verifier: verifies others' signatures.
    ///   - keyring: the admitted keys.
    ///   - session: this run's session number, larger than any earlier run's (see ``ReplayGuard``).
    ///   - incarnation: at least one above the last persisted incarnation.
    ///   - joinTargets: seeds and snapshot peers.
    ///   - seed: seeds the agent's generator.
    ///   - now: the start time.
    ///   - restoredView: the quorum view and last vote persisted before a restart.
    ///   - bootstrapView: with no restored view, whether this node founds a new cloud (it was
    ///     started without seeds) rather than waiting to learn the view from a member.
    ///   - gatewaySettings: turns gateway selection on (`nil`: gateway items are only relayed).
    ///   - rememberedPeers: the peers of the snapshot this run starts from (see ``AgentBoot``).
    ///   - keyStatements: the key rolls and revocations recorded before a restart
    ///     (``PeerSnapshot/keyStatements``), recorded again (``KeyTrust``).
    public init(
        settings: AgentSettings, signer: any MessageSigner, verifier: any SignatureVerifier, keyring: Keyring,
        session: UInt64, incarnation: UInt64, joinTargets: [Destination], seed: UInt64, now: Instant,
        restoredView: PeerSnapshot.ViewState? = nil, bootstrapView: Bool = true,
        gateways gatewaySettings: GatewayGossipSettings? = nil, rememberedPeers: [PeerSnapshot.Peer] = [],
        keyStatements: [SignedItem] = []
    ) {
        self.rememberedPeers = rememberedPeers
        var rng = DeterministicRandom(seed: seed)
        self.settings = settings
        self.verifier = verifier
        self.joinGate = JoinGate(signer: signer, verifier: verifier, session: session)
        self.codec = DatagramCodec(
            session: session, signer: signer, verifier: verifier, keyring: keyring,
            clockSkewWindow: settings.clockSkewWindow,
            rateLimit: RateLimiter(ratePerSecond: settings.senderRatePerSecond, burst: settings.senderBurst))
        if !keyStatements.isEmpty {
            codec.trust = KeyTrust(keyring: keyring, restoring: keyStatements, verifier: verifier)
            codec.formerIDs = Self.formerIDs(of: signer.nodeID, in: codec.trust)
        }
        self.membership = Membership(
            name: settings.name, endpoint: settings.endpoint, incarnation: incarnation, signer: signer,
            settings: settings.membership, joinTargets: joinTargets, rng: rng.split(), now: now)
        if let gatewaySettings {
            self.gateways = GatewayGossip(signer: signer, settings: gatewaySettings, seed: rng.next(), now: now)
        }
        self.rng = rng
        if let quorum = settings.quorum {
            self.quorumView = QuorumView(
                signer: signer, settings: quorum, restored: restoredView?.view, acceptor: restoredView?.acceptor, lastVote: restoredView?.lastVote,
                bootstrap: bootstrapView, session: session)
        }
    }

    /// This node's ID.
    public var localID: NodeID { membership.localID }

    /// This node's session.
    public var session: UInt64 { codec.session }

    /// The admitted keys.
    public var keyring: Keyring { codec.keyring }

    /// When the shell must call ``onTick(now:)`` next.
    public var nextWakeup: Instant? {
        [membership.nextDeadline, nextGossip, quorumView?.nextDeadline, gateways?.nextDeadline, snapshotDueAt]
            .compactMap { $0 }.min()
    }

    /// The number of items waiting for dissemination.
    public var queuedItems: Int { dissemination.count }

    /// Starts the protocol.
    public mutating func start(now: Instant) -> [AgentDirective] {
        nextGossip = now + settings.membership.gossipInterval
        return perform(membership.start(now: now), now: now) + evaluateView(now: now)
    }

    /// Leaves gracefully: queues this node's LEFT claim and sends it at once to up to
    /// ``MembershipSettings/gossipFanout`` members (twice as many, since nobody will retransmit
    /// it for us once we are gone).
    public mutating func leave(now: Instant) -> [AgentDirective] {
        var out = perform(membership.leave(now: now), now: now)
        out += gossip(to: membership.randomLiveMembers(settings.membership.gossipFanout * 2), now: now)
        return out
    }

    /// Replaces the keyring (on SIGHUP). Members whose keys left it are no longer heard.
    public mutating func updateKeyring(_ keyring: Keyring) {
        codec.keyring = keyring
    }

    /// Fires due timers.
    public mutating func onTick(now: Instant) -> [AgentDirective] {
        var out = perform(membership.onTick(now: now), now: now)
        if let due = quorumView?.nextDeadline, due <= now {
            out += evaluateView(now: now)
        }
        out += gatewayTick(now: now)
        if let due = snapshotDueAt, due <= now { out.append(persistSnapshot(now: now)) }
        if let due = nextGossip, due <= now {
            nextGossip = now + settings.membership.gossipInterval
            if !dissemination.isEmpty {
                out += gossip(to: membership.randomLiveMembers(settings.membership.gossipFanout), now: now)
            }
        }
        return out
    }

    /// Handles one received UDP payload.
    ///
    /// - Parameters:
    ///   - bytes: the payload.
    ///   - source: the address it came from (replies to probes go there).
    ///   - now: this node's clock.
    public mutating func onDatagram(_ bytes: Data, from source: PeerEndpoint, now: Instant) -> [AgentDirective] {
        let opened: (sender: NodeID, packet: Overlayd_V1_Packet)
        switch codec.open(bytes, now: now) {
        case .failure(let reason):
            counters.rejected[reason, default: 0] += 1
            if reason == .badSignature, let sender = Self.namedSender(of: bytes) {
                verificationFailures.note(sender, .datagram, now: now)
            }
            return [.rejected(reason)]
        case .success(let value):
            opened = value
        }
        let isJoin = opened.packet.recipient.isEmpty
        if isJoin, let refusal = screenJoin(opened.packet, from: opened.sender, source: source, size: bytes.count, now: now) {
            return refusal
        }
        counters.datagramsReceived += 1
        counters.bytesReceived += bytes.count

        var out: [AgentDirective] = []
        for wire in opened.packet.items {
            out += receiveItem(wire, relayedBy: opened.sender, now: now)
        }
        // After the items, so a new member's first datagram already counts as heard.
        membership.heard(from: opened.sender, now: now)
        let sender = opened.sender
        out += noteStatedView(of: opened.packet, from: sender, now: now)
        switch opened.packet.message {
        case .ping(let ping)?:
            out += perform(membership.onPing(probe: ping.probe, from: sender, source: source), now: now)
        case .ack(let ack)?:
            out += perform(membership.onAck(probe: ack.probe, from: sender, now: now), now: now)
        case .pingRequest(let request)?:
            out += perform(membership.onPingRequest(request, from: sender, source: source, now: now), now: now)
        case .nack(let nack)?:
            membership.onNack(probe: nack.probe)
        case .sync(let sync)?:
            out += receiveSyncView(sync, from: sender, now: now)
            // A join's reply goes where the join proved it receives (its cookie is bound to
            // that address), not to the endpoint its claims announce.
            out += perform(membership.onSync(replyWanted: sync.replyWanted, from: sender, source: source, replyToSource: isJoin), now: now)
        case .joinChallenge(let challenge)?:
            out += answerJoinChallenge(challenge, from: source, now: now)
        case .gossip?, nil:
            break
        }
        return out
    }

    /// The admitted sender a refused datagram names (decoded again: only a datagram that got as
    /// far as the signature check, so at most the sender rate of them).
    private static func namedSender(of bytes: Data) -> NodeID? {
        (try? Overlayd_V1_Datagram(serializedBytes: bytes)).flatMap { NodeID(bytes: $0.sender) }
    }

    private mutating func receiveItem(_ wire: Overlayd_V1_SignedItem, relayedBy sender: NodeID, now: Instant) -> [AgentDirective] {
        // A copy of an item already processed is dropped before it is even decoded (the cache
        // holds only items that decoded, fitted and verified).
        if verified.contains(wire: wire) {
            counters.itemsDuplicate += 1
            return []
        }
        // An item too large to be relayed in a datagram of its own is refused outright.
        guard let item = SignedItem(wire: wire), item.encodedSize <= Self.maxItemSize else { return reject(.invalidItem) }
        // A key statement needs only a known, unrevoked origin (a roll outlives the overlap in
        // which its origin is admitted: a member that joins later must still learn it).
        let isKeyStatement = KeyStatement.isKeyStatement(item)
        if isKeyStatement, codec.trust.hasRecorded(item) {
            counters.itemsDuplicate += 1
            return []
        }
        guard codec.trust.admits(item.origin, at: now) || (isKeyStatement && codec.trust.isKnown(item.origin))
        else { return reject(.unknownOrigin) }
        counters.itemsVerified += 1
        guard item.verify(with: verifier) else {
            // An honest relay forwards only items it verified: the datagram's sender is to blame.
            verificationFailures.note(sender, .relayedItem, now: now)
            return reject(.forgedItem)
        }
        verified.insert(item)
        switch item.item.kind {
        case .member?:
            guard let directives = membership.onClaim(item, now: now) else { return reject(.invalidItem) }
            return perform(directives, now: now)
        case .observation?, .gateway?, .selection?:
            return receiveGatewayItem(item, now: now)
        case .viewVote?:
            return receiveViewVote(item, now: now)
        case .keyRoll?, .keyRevocation?:
            return receiveKeyStatement(item, now: now)
        case nil:
            // An item kind from a newer version: keep relaying it so upgrades can roll out.
            relay(item)
            return []
        }
    }

    /// Remembers an item as processed, so its copies are dropped without verification.
    mutating func markProcessed(_ item: SignedItem) {
        verified.insert(item)
    }

    /// Queues a verified item for dissemination, unchanged.
    mutating func relay(_ item: SignedItem) {
        dissemination.enqueue(item)
    }

    private mutating func reject(_ reason: RejectReason) -> [AgentDirective] {
        counters.rejected[reason, default: 0] += 1
        return [.rejected(reason)]
    }

    // MARK: Directives from membership

    mutating func perform(_ directives: [MembershipDirective], now: Instant) -> [AgentDirective] {
        var out: [AgentDirective] = []
        var snapshotDue = false
        var snapshotNow = false
        if !rememberedPeers.isEmpty, membership.liveCount > 1 { rememberedPeers = [] }
        for directive in directives {
            switch directive {
            case .send(let message, let destination):
                out.append(send(message, to: destination, now: now))
            case .sync(let destination, let replyWanted):
                if destination.id == nil { joinCookies.joinSent(to: destination.endpoint) }
                out += sync(to: destination, replyWanted: replyWanted, now: now)
            case .broadcast(let item):
                verified.insert(item)
                dissemination.enqueue(item)
            case .changed(let change):
                out.append(.memberChanged(change))
                snapshotDue = true
            case .incarnationChanged:
                snapshotNow = true
            }
        }
        if snapshotNow {
            out.append(persistSnapshot(now: now))
        } else if snapshotDue, snapshotDueAt == nil {
            snapshotDueAt = max(now, (lastSnapshotAt ?? now) + Self.snapshotCoalescing)
            if snapshotDueAt! <= now { out.append(persistSnapshot(now: now)) }
        }
        return out
    }

    /// The snapshot as a directive, now; clears any coalesced one that was due.
    mutating func persistSnapshot(now: Instant) -> AgentDirective {
        snapshotDueAt = nil
        lastSnapshotAt = now
        return .persist(snapshot)
    }

    /// The snapshot to persist now.
    public var snapshot: PeerSnapshot {
        var snapshot = PeerSnapshot(
            incarnation: membership.incarnation, session: codec.session,
            peers: membership.sortedMembers.filter { $0.state != .left }.map {
                PeerSnapshot.Peer(id: $0.id.hex, name: $0.name, endpoint: $0.endpoint.description)
            })
        if !rememberedPeers.isEmpty {
            let listed = Set(snapshot.peers.map(\.id))
            snapshot.peers += rememberedPeers.filter { !listed.contains($0.id) }
        }
        if let quorumView, let view = quorumView.view {
            snapshot.view = PeerSnapshot.ViewState(view: view, lastVote: quorumView.lastVote, acceptor: quorumView.acceptor)
        }
        if !codec.trust.statements.isEmpty {
            snapshot.keyStatements = codec.trust.statements.compactMap { try? $0.wire.serializedBytes() as Data }
        }
        return snapshot
    }

    private mutating func send(_ message: Overlayd_V1_Packet.OneOf_Message, to destination: Destination, now: Instant) -> AgentDirective {
        var packet = viewStampedPacket()
        packet.message = message
        packet.items = piggyback(for: packet)
        return transmit(packet, to: destination, now: now)
    }

    private mutating func gossip(to members: [Member], now: Instant) -> [AgentDirective] {
        members.map { member in
            var packet = viewStampedPacket()
            packet.message = .gossip(Overlayd_V1_Gossip())
            packet.items = piggyback(for: packet)
            return transmit(packet, to: Destination(id: member.id, endpoint: member.endpoint), now: now)
        }
    }

    /// Push-pull: the full state, split over as many datagrams as it needs; only the first
    /// asks for a reply. `gatewayItems: false` leaves out the gateway items (a view catch-up).
    mutating func sync(to destination: Destination, replyWanted: Bool, gatewayItems: Bool = true, now: Instant) -> [AgentDirective] {
        // Key statements first (a member needs a roll before it admits the successor's claims),
        // then membership (a joiner needs members before anything about them), then the other
        // subsystems' recent items.
        let state = keySyncItems + membership.fullState() + (gatewayItems ? gatewaySyncItems() : []) + viewSyncItems()
        let view = quorumView?.syncHeader ?? (epoch: 0, lineage: Data(), members: [])
        var out: [AgentDirective] = []
        var index = 0
        var memberIndex = 0
        repeat {
            var packet = viewStampedPacket()
            let members = view.members[memberIndex..<min(view.members.count, memberIndex + Self.viewMembersPerSync)]
            memberIndex += members.count
            packet.message = .sync(.with {
                $0.replyWanted = replyWanted && index == 0 && out.isEmpty
                $0.viewEpoch = view.epoch
                $0.viewLineage = view.lineage
                $0.viewSize = UInt32(view.members.count)
                $0.viewMembers = members.map(\.data)
                if destination.id == nil, let cookie = joinCookies.cookie(for: destination.endpoint) { $0.joinCookie = cookie }
            })
            let room = DatagramCodec.packetBudget - Self.headerAllowance(packet)
            var remaining = room
            while index < state.count {
                let cost = state[index].encodedSize + DatagramCodec.itemOverhead(state[index].encodedSize)
                if cost > room {
                    index += 1  // can never fit a sync datagram: skip it rather than loop
                    continue
                }
                guard cost <= remaining else { break }
                packet.items.append(state[index].wire)
                remaining -= cost
                index += 1
            }
            if destination.id == nil { padJoin(&packet) }
            out.append(transmit(packet, to: destination, now: now))
        } while index < state.count || memberIndex < view.members.count
        return out
    }

    /// View members per sync datagram: 8 keys (272 bytes) leave most of the budget to items.
    static let viewMembersPerSync = 8

    private mutating func piggyback(for packet: Overlayd_V1_Packet) -> [Overlayd_V1_SignedItem] {
        let budget = DatagramCodec.packetBudget - Self.headerAllowance(packet)
        let limit = settings.membership.retransmitLimit(memberCount: membership.liveCount)
        return dissemination.take(budget: budget, overhead: DatagramCodec.itemOverhead, limit: limit).map(\.wire)
    }

    /// The packet's size without items, plus the fields ``DatagramCodec/seal(_:to:now:)`` adds
    /// (recipient 34, session 11, sequence 11, time 11 bytes at most).
    static func headerAllowance(_ packet: Overlayd_V1_Packet) -> Int {
        ((try? packet.serializedBytes() as Data)?.count ?? 0) + 67
    }

    mutating func transmit(_ packet: Overlayd_V1_Packet, to destination: Destination, now: Instant) -> AgentDirective {
        let bytes = codec.seal(packet, to: destination.id, now: now)
        counters.datagramsSent += 1
        counters.bytesSent += bytes.count
        return .transmit(bytes, to: destination.endpoint)
    }
}
