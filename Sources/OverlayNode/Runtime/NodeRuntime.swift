import Foundation
import Logging
import NIOCore
import NIOPosix
import OverlayAPI
import OverlayCore
import OverlayCrypto

/// The shell around one node's ``OverlayCore/Agent``: an actor that owns the core, feeds it
/// datagrams and timer ticks, and performs its directives (send, persist, log, count).
///
/// Time enters here (``WallClock``), randomness is seeded here (``OverlayCrypto/SecureRandom``),
/// and nothing here decides protocol behaviour: that is all in the core.
public actor NodeRuntime {
    /// The daemon's version string.
    public let version: String
    /// This node's ID (its successor's after a key roll, ``rollKey(overlap:)``).
    public internal(set) var localID: NodeID
    /// Metrics served at `/metrics`.
    public let metrics: NodeMetrics

    var agent: Agent
    private let options: RuntimeOptions
    let transport: UDPTransport
    var logger: Logger
    let startedAt = ContinuousClock.now
    private var timer: Task<Void, Never>?
    private var armed: Instant?
    private var receiver: Task<Void, Never>?
    private var lastSnapshot: PeerSnapshot?
    /// Writes snapshots off the actor (``SnapshotWriter``).
    private let snapshotWriter: SnapshotWriter
    private var listeners: [UUID: AsyncStream<MemberChange>.Continuation] = [:]
    private var viewListeners: [UUID: AsyncStream<ViewUpdate>.Continuation] = [:]
    /// Gateway selection: prober, hop source, probes in flight, event subscribers.
    var gatewayShell: GatewayShellState
    /// Signs as this node; kept to restart gateway selection on reload.
    var signer: SodiumSigner
    /// The switch to the successor key after a roll's handover, while one is pending.
    var keySwitch: Task<Void, Never>?
    /// The node's state directory (key files, snapshot).
    var stateDirectory: StateDirectory { options.stateDirectory }
    /// The event loops of the prober, kept to rebuild it on reload.
    let group: any EventLoopGroup
    /// The configuration in force (``RuntimeOptions/configuration``), replaced by each reload.
    var configuration: NodeConfiguration?
    /// The keyring file in force.
    var keyringPath: String
    /// Re-reads the config file and flags (``RuntimeOptions/reread``).
    let reread: (@Sendable () throws -> NodeConfiguration)?

    /// Loads the identity, keyring and snapshot, binds the UDP socket and prepares the agent.
    ///
    /// - Throws: ``StateError`` with one sentence for the operator (no key, no keyring, port in use).
    public init(options: RuntimeOptions, group: any EventLoopGroup, logger: Logger) async throws {
        var snapshot: PeerSnapshot?
        switch options.stateDirectory.loadSnapshot() {
        case .success(let loaded): snapshot = loaded
        case .failure(let error): logger.warning("\(error.description)")
        }
        let identity = try Self.finishKeyRoll(options.stateDirectory, snapshot: &snapshot, logger: logger)
        let signer = SodiumSigner(identity: identity)
        let keyring = try StateDirectory.loadKeyring(path: options.keyringPath, localID: signer.nodeID)
        let transport = try await UDPTransport.bind(
            options.bind, group: group, senderRate: (options.agent.senderRatePerSecond, options.agent.senderBurst))
        var settings = options.agent
        if options.bind.port == 0, settings.endpoint.port == 0 { settings.endpoint.port = transport.localAddress.port }
        let now = WallClock.now()
        // The one boot policy (AgentBoot): above the persisted incarnation and session, seeds
        // then the snapshot's peers as join targets, founding only without a seed but itself.
        let boot = AgentBoot(endpoint: settings.endpoint, seeds: options.seeds, snapshot: snapshot, now: now)
        let agent = boot.makeAgent(
            settings: settings, signer: signer, verifier: SodiumVerifier(), keyring: keyring, seed: SecureRandom.uint64(),
            now: now, gateways: options.gateways?.settings)
        transport.admitSenders(agent.keyTrust.knownKeys.map(\.data))
        self.agent = agent
        self.gatewayShell = GatewayShellState(options: options.gateways, group: group)
        self.signer = signer
        self.group = group
        self.configuration = options.configuration
        self.keyringPath = options.keyringPath
        self.reread = options.reread
        self.version = options.version
        self.localID = signer.nodeID
        self.options = options
        self.transport = transport
        self.metrics = NodeMetrics(version: options.version)
        var logger = logger
        logger[metadataKey: "node"] = "\(signer.nodeID.shortForm)"
        self.logger = logger
        let writerLogger = logger
        self.snapshotWriter = SnapshotWriter(directory: options.stateDirectory) { error in
            writerLogger.error("cannot save the peer snapshot: \(error)")
        }
        let udp = await transport.statistics()
        metrics.record(udp)
        if udp.receiveBufferCapped {
            logger.warning(
                "the kernel granted a UDP receive buffer of \(udp.receiveBufferBytes) bytes (as it reports it) for the \(udp.requestedReceiveBufferBytes) asked; bursts beyond it are dropped and counted in overlayd_datagrams_dropped_total{stage=\"socket_buffer\"}; raise net.core.rmem_max (sysctl) to at least \(udp.requestedReceiveBufferBytes)")
        }
        logger.info("starting", metadata: [
            "name": "\(settings.name)", "id": "\(signer.nodeID.hex)", "endpoint": "\(settings.endpoint)",
            "incarnation": "\(boot.incarnation)", "keyring": "\(keyring.count) keys",
            "join": "\(boot.joinTargets.map(\.endpoint.description).joined(separator: ","))",
            "founds": "\(boot.foundsCloud && boot.restoredView == nil)",
            "udp_receive_buffer": "\(udp.receiveBufferBytes)",
        ])
    }

    /// Starts receiving and the protocol's timers.
    public func start() {
        let directives = agent.start(now: WallClock.now())
        perform(directives)
        let datagrams = transport.datagrams
        receiver = Task { [weak self] in
            for await datagram in datagrams {
                await self?.receive(datagram)
            }
        }
        startGateways()
    }

    /// Leaves gracefully: gossips this node's LEFT claim, waits `linger` for it to travel,
    /// then closes the socket.
    public func leave(linger: Duration = .milliseconds(300)) async {
        logger.info("leaving the cloud")
        perform(agent.leave(now: WallClock.now()))
        try? await Task.sleep(for: linger)
        await stop()
    }

    /// Stops timers and closes the socket without announcing anything (as a crash would).
    public func stop() async {
        keySwitch?.cancel()
        keySwitch = nil
        timer?.cancel()
        timer = nil
        receiver?.cancel()
        stopGateways()
        await transport.close()
        for continuation in listeners.values { continuation.finish() }
        listeners.removeAll()
        for continuation in viewListeners.values { continuation.finish() }
        viewListeners.removeAll()
        await snapshotWriter.flush()
    }

    /// Brings the drop counters and the receive buffer gauge up to date with the transport.
    func recordTransportStatistics() async {
        metrics.record(await transport.statistics())
    }

    /// Re-reads the keyring file alone. On error the old keyring stays in force.
    public func reloadKeyring() {
        do {
            let keyring = try StateDirectory.loadKeyring(path: keyringPath, localID: localID)
            agent.updateKeyring(keyring)
            transport.admitSenders(agent.keyTrust.knownKeys.map(\.data))
            logger.notice("keyring reloaded", metadata: ["keys": "\(keyring.count)"])
        } catch {
            logger.error("keyring not reloaded, keeping the old one: \(error)")
        }
    }

    /// A stream of member changes, for the API's event stream.
    public func memberChanges() -> AsyncStream<MemberChange> {
        let (stream, continuation) = AsyncStream<MemberChange>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        listeners[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.removeListener(id) } }
        return stream
    }

    private func removeListener(_ id: UUID) { listeners[id] = nil }

    /// A change of the quorum view or of this node's quorum, for the API's event stream.
    public enum ViewUpdate: Sendable {
        /// A view was committed or adopted.
        case view(CommittedView)
        /// The quorum status changed.
        case quorum(QuorumStatus)
    }

    /// A stream of view and quorum changes, for the API's event stream.
    public func viewUpdates() -> AsyncStream<ViewUpdate> {
        let (stream, continuation) = AsyncStream<ViewUpdate>.makeStream(bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        viewListeners[id] = continuation
        continuation.onTermination = { [weak self] _ in Task { await self?.removeViewListener(id) } }
        return stream
    }

    private func removeViewListener(_ id: UUID) { viewListeners[id] = nil }

    // MARK: Inputs

    private func receive(_ datagram: ReceivedDatagram) {
        perform(agent.onDatagram(datagram.bytes, from: datagram.source, now: WallClock.now()))
    }

    private func tick() {
        armed = nil
        perform(agent.onTick(now: WallClock.now()))
    }

    /// Keeps exactly one timer task, armed for `wake` (the agent's next wake-up); an earlier
    /// one already armed stays.
    func arm(_ wake: Instant?) {
        guard let wake else { return }
        if let armed, armed <= wake, timer != nil { return }
        timer?.cancel()
        armed = wake
        let delay = max(0, wake.milliseconds - WallClock.now().milliseconds)
        timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            guard !Task.isCancelled else { return }
            await self?.tick()
        }
    }

    // MARK: Directives

    /// Performs what one input of the agent returned, through the one interpreter
    /// (``OverlayCore/AgentHost``) on this node's ``RuntimeEnvironment``, re-arms the timer,
    /// and brings the agent's gauges and counters up to date.
    func perform(_ directives: [AgentDirective]) {
        var environment = RuntimeEnvironment(runtime: self)
        AgentHost.perform(directives, nextWakeup: agent.nextWakeup, in: &environment)
        let counters = agent.counters
        metrics.datagramsReceived.mirror(counters.datagramsReceived)
        metrics.bytesReceived.mirror(counters.bytesReceived)
        metrics.itemsVerified.mirror(counters.itemsVerified)
        metrics.itemsDuplicate.mirror(counters.itemsDuplicate)
        let members = agent.membership.members.values
        for state in MemberState.allCases {
            metrics.membersByState[state]?.record(members.count { $0.state == state } + (state == .alive ? 1 : 0))
        }
        metrics.localHealth.record(agent.membership.localHealthScore)
        metrics.suspiciousMembers.record(agent.verificationFailures.suspicious(now: WallClock.now()).count)
        metrics.incarnation.record(Double(agent.membership.incarnation))
        metrics.queuedItems.record(agent.queuedItems)
        if let counters = agent.gateways?.counters { metrics.gateway.recordItems(counters.items) }
    }

    /// ``AgentEnvironment/transmit(_:to:)``: one UDP datagram, counted.
    func send(_ bytes: Data, to endpoint: PeerEndpoint) {
        metrics.datagramsSent.increment()
        metrics.bytesSent.increment(by: bytes.count)
        if let error = transport.send(bytes, to: endpoint) {
            metrics.sendErrors.increment()
            logger.debug("send failed", metadata: ["to": "\(endpoint)", "error": "\(error)"])
        }
    }

    /// ``AgentEnvironment/publish(_:)``: logs, metrics and the API's event subscribers.
    func publish(_ event: AgentEvent) {
        switch event {
        case .memberChanged(let change):
            log(change)
            for continuation in listeners.values { continuation.yield(change) }
        case .rejected(let reason):
            metrics.rejected[reason]?.increment()
            logger.debug("datagram rejected", metadata: ["reason": "\(reason.rawValue)"])
        case .viewChanged(let view, let previous):
            logViewChange(view, previous: previous)
            for continuation in viewListeners.values { continuation.yield(.view(view)) }
        case .quorumChanged(let status):
            logQuorum(status)
            for continuation in viewListeners.values { continuation.yield(.quorum(status)) }
        case .selectionDecided(let decision):
            record(decision)
        }
    }

    private func log(_ change: MemberChange) {
        let metadata: Logger.Metadata = [
            "member": "\(change.id.shortForm)", "name": "\(change.name)", "incarnation": "\(change.incarnation)",
            "from": "\(change.from?.rawValue ?? "-")", "to": "\(change.to?.rawValue ?? "forgotten")",
        ]
        switch change.to {
        case .failed?: logger.warning("member failed", metadata: metadata)
        case nil: logger.info("member forgotten", metadata: metadata)
        case .alive? where change.from == nil: logger.info("member joined", metadata: metadata)
        default: logger.info("member state changed", metadata: metadata)
        }
    }

    private func logViewChange(_ view: CommittedView, previous: CommittedView?) {
        let before = Set(previous?.members ?? [])
        let after = Set(view.members)
        logger.notice("view committed", metadata: [
            "epoch": "\(view.epoch)", "members": "\(view.members.count)",
            "added": "\(after.subtracting(before).sorted().map(\.shortForm).joined(separator: ","))",
            "removed": "\(before.subtracting(after).sorted().map(\.shortForm).joined(separator: ","))",
            "member": "\(view.contains(localID))",
        ])
        metrics.viewEpoch.record(Double(view.epoch))
        metrics.viewSize.record(view.members.count)
    }

    private func logQuorum(_ status: QuorumStatus) {
        let metadata: Logger.Metadata = ["reachable": "\(status.reachable)", "view_size": "\(status.viewSize)", "member": "\(status.isMember)"]
        if status.hasQuorum {
            logger.info("quorum", metadata: metadata)
        } else {
            logger.warning("no quorum: this side of the network is not a majority of the view", metadata: metadata)
        }
        metrics.hasQuorum.record(status.hasQuorum ? 1 : 0)
        metrics.reachable.record(status.reachable)
    }

    /// ``AgentEnvironment/persist(_:)``: hands a changed snapshot to the writer (off the actor).
    func persist(_ snapshot: PeerSnapshot) {
        guard snapshot != lastSnapshot else { return }
        lastSnapshot = snapshot
        snapshotWriter.submit(snapshot)
    }

    /// Waits until every snapshot asked for so far is on disk.
    func flushSnapshots() async { await snapshotWriter.flush() }
}
