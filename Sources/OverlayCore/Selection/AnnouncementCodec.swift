import OverlayWire

/// Maps gateway announcements (item kind 12) and selection announcements (item kind 13) to
/// and from their wire forms.
///
/// Both are statements about their origin: a gateway announcement describes the gateway the
/// origin itself runs, a selection announcement says which gateway the origin itself uses.
/// Neither has a field naming another node, so neither can be made about someone else.
public enum AnnouncementCodec {
    /// A node's statement about the gateway it runs, as read from the wire.
    public struct GatewayStatement: Sendable, Equatable {
        /// The gateway's name.
        public var gateway: GatewayID
        /// Where its HTTP proxy listens.
        public var proxy: ProxyEndpoint
        /// Clients it is meant to serve, or `nil` when not advertised (0 on the wire).
        public var capacity: Int?
        /// Clients it serves now, as the gateway's node counts them.
        public var clients: Int
        /// The announcer's sequence number.
        public var sequence: UInt64

        /// Creates a statement.
        public init(gateway: GatewayID, proxy: ProxyEndpoint, capacity: Int?, clients: Int, sequence: UInt64) {
            self.gateway = gateway
            self.proxy = proxy
            self.capacity = capacity
            self.clients = clients
            self.sequence = sequence
        }
    }

    /// The item kind announcing the gateway this node runs.
    public static func kind(_ statement: GatewayStatement) -> Overlayd_V1_Item.OneOf_Kind {
        var message = Overlayd_V1_GatewayAnnouncement()
        message.gateway = statement.gateway.rawValue
        message.proxy = .with {
            $0.host = statement.proxy.host
            $0.port = UInt32(statement.proxy.port)
        }
        message.capacity = UInt32(clamping: max(0, statement.capacity ?? 0))
        message.clients = UInt32(clamping: max(0, statement.clients))
        message.sequence = statement.sequence
        return .gateway(message)
    }

    /// Reads a gateway announcement.
    ///
    /// - Returns: the statement, or why it is malformed (bad name, no proxy, port outside
    ///   1-65535, sequence 0).
    public static func decode(_ message: Overlayd_V1_GatewayAnnouncement) -> Result<GatewayStatement, GatewayItemError> {
        let gateway: GatewayID
        switch GatewayName.check(message.gateway) {
        case .success(let id): gateway = id
        case .failure(let error): return .failure(error)
        }
        guard message.hasProxy, !message.proxy.host.isEmpty, message.proxy.host.utf8.count <= 255,
              !message.proxy.host.contains(where: { $0.isWhitespace || $0 == "/" })
        else { return .failure(GatewayItemError("the announcement has no usable proxy host")) }
        guard (1...65535).contains(message.proxy.port) else {
            return .failure(GatewayItemError("the proxy port \(message.proxy.port) is outside 1-65535"))
        }
        guard message.sequence > 0 else { return .failure(GatewayItemError("the announcement has sequence 0")) }
        return .success(GatewayStatement(
            gateway: gateway, proxy: ProxyEndpoint(host: message.proxy.host, port: UInt16(message.proxy.port)),
            capacity: message.capacity == 0 ? nil : Int(message.capacity), clients: Int(message.clients),
            sequence: message.sequence))
    }

    /// The item kind announcing this node's selection.
    public static func kind(_ announcement: SelectionAnnouncement) -> Overlayd_V1_Item.OneOf_Kind {
        var message = Overlayd_V1_SelectionAnnouncement()
        message.gateway = announcement.gateway?.rawValue ?? ""
        message.sequence = announcement.sequence
        return .selection(message)
    }

    /// Reads a selection announcement made by `node` (the item's origin) at `issuedAt`.
    ///
    /// - Returns: the announcement, or why it is malformed (bad name, sequence 0).
    public static func decode(
        _ message: Overlayd_V1_SelectionAnnouncement, node: NodeID, issuedAt: Instant
    ) -> Result<SelectionAnnouncement, GatewayItemError> {
        guard message.sequence > 0 else { return .failure(GatewayItemError("the selection has sequence 0")) }
        var gateway: GatewayID?
        if !message.gateway.isEmpty {
            switch GatewayName.check(message.gateway) {
            case .success(let id): gateway = id
            case .failure(let error): return .failure(error)
            }
        }
        return .success(SelectionAnnouncement(node: node, gateway: gateway, sequence: message.sequence, announcedAt: issuedAt))
    }
}
