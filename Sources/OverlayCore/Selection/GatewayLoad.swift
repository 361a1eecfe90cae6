/// "I use this gateway": what each node announces after a selection, signed by the node and
/// gossiped, so that every node knows every gateway's load in this cloud.
public struct SelectionAnnouncement: Hashable, Sendable, CustomStringConvertible {
    /// The announcing node.
    public var node: NodeID
    /// The gateway it now uses, or `nil` when it uses none.
    public var gateway: GatewayID?
    /// The node's announcement number: larger for every newer announcement, across restarts.
    public var sequence: UInt64
    /// When the node made the announcement, on its clock.
    public var announcedAt: Instant

    /// Creates an announcement.
    public init(node: NodeID, gateway: GatewayID?, sequence: UInt64, announcedAt: Instant) {
        self.node = node
        self.gateway = gateway
        self.sequence = sequence
        self.announcedAt = announcedAt
    }

    public var description: String { "\(node.shortForm) uses \(gateway?.rawValue ?? "no gateway") #\(sequence)" }
}

/// How many nodes of the cloud use each gateway, from the latest selection announcement of
/// each node.
///
/// Memory is one entry per announcing node, bounded by the keyring; the shell calls
/// ``forget(node:)`` when membership declares a node failed or gone.
public struct GatewayLoad: Sendable, Equatable {
    private var choices: [NodeID: SelectionAnnouncement] = [:]
    private var counts: [GatewayID: Int] = [:]

    /// Creates an empty load table.
    public init() {}

    /// Applies a node's announcement if it is newer than the one held.
    ///
    /// - Returns: `true` if the table changed.
    @discardableResult
    public mutating func apply(_ announcement: SelectionAnnouncement) -> Bool {
        if let held = choices[announcement.node] {
            guard announcement.sequence > held.sequence else { return false }
            decrement(held.gateway)
        }
        choices[announcement.node] = announcement
        if let gateway = announcement.gateway { counts[gateway, default: 0] += 1 }
        return true
    }

    /// Forgets a node's choice (it failed or left the cloud).
    public mutating func forget(node: NodeID) {
        guard let held = choices.removeValue(forKey: node) else { return }
        decrement(held.gateway)
    }

    /// Forgets choices announced before `cutoff` that were never renewed.
    ///
    /// - Returns: how many were forgotten.
    @discardableResult
    public mutating func expire(announcedBefore cutoff: Instant) -> Int {
        let old = choices.values.filter { $0.announcedAt < cutoff }.map(\.node).sorted()
        for node in old { forget(node: node) }
        return old.count
    }

    /// The number of nodes that announced they use `gateway`.
    public func clients(of gateway: GatewayID) -> Int { counts[gateway] ?? 0 }

    /// The gateway `node` last announced, if any.
    public func gateway(of node: NodeID) -> GatewayID? { choices[node]?.gateway }

    /// The number of nodes that announced any gateway.
    public var totalClients: Int { counts.values.reduce(0, +) }

    /// Every gateway with at least one client, with its client count, in gateway order.
    public var byGateway: [(gateway: GatewayID, clients: Int)] {
        counts.keys.sorted().map { ($0, counts[$0] ?? 0) }
    }

    public static func == (lhs: GatewayLoad, rhs: GatewayLoad) -> Bool { lhs.choices == rhs.choices }

    private mutating func decrement(_ gateway: GatewayID?) {
        guard let gateway else { return }
        let remaining = counts[gateway, default: 1] - 1
        counts[gateway] = remaining > 0 ? remaining : nil
    }
}
