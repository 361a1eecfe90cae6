import OverlayWire

/// How a node starts or restarts: the one boot policy of every host of the ``Agent`` (the
/// daemon's `NodeRuntime`, the simulator's `SimulatedCloud`, the core tests' harness).
///
/// From what the node remembers (the last ``PeerSnapshot`` it persisted, if any) and what it
/// was told (its seeds), it decides:
///
/// - **incarnation**: one above the persisted one (1 on a first start), so the node's new
///   ALIVE claim overrides every claim about its previous run, including a failure verdict;
/// - **session**: above the persisted session and at least the clock's milliseconds, so every
///   member's ``ReplayGuard`` accepts the new run even if this box's clock went backwards;
/// - **join targets**: the seeds other than the node itself, then the snapshot's peers, so a
///   restart rejoins through the peers it knew even when no seed is configured; the agent
///   keeps those peers in its own snapshots until it has met a live member, so a box cut off
///   again before it met anyone does not forget them;
/// - **the quorum view**: the persisted view and this node's promises and votes, when the
///   snapshot has them; otherwise the node **founds** a new cloud (a view of one) only when no
///   seed but itself is configured, and every other node waits to learn the view from a
///   member (`Docs/membership-view.md`, "Starting a cloud from nothing"). A restored view
///   always takes precedence over founding.
///
/// Pure: the clock reading and the generator's seed come from the host.
public struct AgentBoot: Sendable, Equatable {
    /// The incarnation to start at.
    public let incarnation: UInt64
    /// The session of this run.
    public let session: UInt64
    /// Where to join: seeds first, then the snapshot's peers.
    public let joinTargets: [Destination]
    /// Whether, without a restored view, this node founds a new cloud.
    public let foundsCloud: Bool
    /// The quorum view and votes restored from the snapshot.
    public let restoredView: PeerSnapshot.ViewState?
    /// Whether this start continues a persisted run (a snapshot was found).
    public let isRestart: Bool
    /// The snapshot's peers, kept in the agent's snapshots until it meets a live member.
    public let rememberedPeers: [PeerSnapshot.Peer]
    /// The key statements restored from the snapshot (those that no longer decode are skipped).
    public let keyStatements: [SignedItem]

    /// Applies the policy.
    ///
    /// - Parameters:
    ///   - endpoint: where this node receives datagrams (a seed equal to it is itself).
    ///   - seeds: the configured seeds, in order.
    ///   - snapshot: the last snapshot persisted, or `nil` on a first start (or when it could
    ///     not be read: the shell sets a corrupt one aside and starts fresh).
    ///   - now: this node's clock.
    public init(endpoint: PeerEndpoint, seeds: [PeerEndpoint], snapshot: PeerSnapshot?, now: Instant) {
        incarnation = (snapshot?.incarnation ?? 0) + 1
        session = max(UInt64(max(0, now.milliseconds)), (snapshot?.session ?? 0) + 1)
        let others = seeds.filter { $0 != endpoint }
        joinTargets = others.map { Destination(id: nil, endpoint: $0) } + (snapshot?.joinTargets ?? [])
        foundsCloud = others.isEmpty
        restoredView = snapshot?.view
        isRestart = snapshot != nil
        rememberedPeers = snapshot?.peers ?? []
        keyStatements = (snapshot?.keyStatements ?? []).compactMap { bytes in
            (try? Overlayd_V1_SignedItem(serializedBytes: bytes)).flatMap(SignedItem.init(wire:))
        }
    }

    /// The agent this boot starts.
    ///
    /// - Parameters:
    ///   - settings: name, endpoint and timings.
    ///   - signer: signs as this node.
    ///   - verifier: verifies others' signatures.
    ///   - keyring: the admitted keys.
    ///   - seed: seeds the agent's generator (the OS's randomness in the daemon, derived from
    ///     the run's seed in the simulator and the tests).
    ///   - now: this node's clock (the same reading the boot was decided with).
    ///   - gateways: turns gateway selection on (`nil`: gateway items are only relayed).
    /// - Returns: the agent, not yet started (``Agent/start(now:)``).
    public func makeAgent(
        settings: AgentSettings, signer: any MessageSigner, verifier: any SignatureVerifier, keyring: Keyring,
        seed: UInt64, now: Instant, gateways: GatewayGossipSettings? = nil
    ) -> Agent {
        Agent(
            settings: settings, signer: signer, verifier: verifier, keyring: keyring, session: session,
            incarnation: incarnation, joinTargets: joinTargets, seed: seed, now: now, restoredView: restoredView,
            bootstrapView: foundsCloud, gateways: gateways, rememberedPeers: rememberedPeers,
            keyStatements: keyStatements)
    }
}
