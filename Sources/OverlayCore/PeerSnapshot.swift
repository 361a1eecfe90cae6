import Foundation

/// What a node persists so that a restart rejoins without seeds and continues above its old
/// incarnation and session (the shell writes it crash-safely: temp file, fsync, rename).
public struct PeerSnapshot: Codable, Sendable, Equatable {
    /// One known peer.
    public struct Peer: Codable, Sendable, Equatable {
        /// The peer's ID, hex.
        public var id: String
        /// Its announced name.
        public var name: String
        /// Its endpoint, `host:port`.
        public var endpoint: String

        /// Creates a peer entry.
        public init(id: String, name: String, endpoint: String) {
            self.id = id
            self.name = name
            self.endpoint = endpoint
        }
    }

    /// The quorum view and this node's promises and votes, so a restart neither forgets the view
    /// nor contradicts what it promised or voted.
    public struct ViewState: Codable, Sendable, Equatable {
        /// The committed view.
        public var view: CommittedView
        /// Where this node last voted (kept for readers of older versions; ``acceptor`` says
        /// more).
        public var lastVote: QuorumView.VotePosition?
        /// What this node promised and voted at the view's epoch (absent in snapshots of older
        /// versions).
        public var acceptor: ViewAcceptorState?

        /// Creates the state.
        public init(view: CommittedView, lastVote: QuorumView.VotePosition?, acceptor: ViewAcceptorState? = nil) {
            self.view = view
            self.lastVote = lastVote
            self.acceptor = acceptor
        }
    }

    /// The snapshot format version; 1 so far.
    public var version: Int = 1
    /// This node's incarnation when the snapshot was written.
    public var incarnation: UInt64
    /// This node's session when the snapshot was written.
    public var session: UInt64
    /// The peers known then (alive, suspect or failed; not those that left).
    public var peers: [Peer]
    /// The quorum view, when this node has one (absent in snapshots of older versions).
    public var view: ViewState?
    /// The key rolls and revocations this node recorded (``KeyTrust``), each the signed item's
    /// bytes as its origin signed them (base64 in the file); absent when there are none.
    public var keyStatements: [Data]?

    /// Creates a snapshot.
    public init(incarnation: UInt64, session: UInt64, peers: [Peer]) {
        self.incarnation = incarnation
        self.session = session
        self.peers = peers
    }

    /// The peers as join targets (entries that do not parse are skipped).
    public var joinTargets: [Destination] {
        peers.compactMap { peer in
            guard let endpoint = PeerEndpoint(parsing: peer.endpoint) else { return nil }
            return Destination(id: NodeID(hex: peer.id), endpoint: endpoint)
        }
    }
}
