import Foundation

/// The name of an Internet gateway: the key every node uses for it in observations, selection
/// announcements and the local API.
///
/// A configured gateway is named after its proxy endpoint (`"10.1.2.3:3128"`); an announced one
/// by the name its node announces. Names compare as strings, which gives the core a
/// deterministic order wherever it iterates over gateways.
public struct GatewayID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name as written in config and on the wire.
    public let rawValue: String

    /// Wraps a name.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Names a gateway after its proxy endpoint, as `host:port` (`[v6]:port` for IPv6).
    public init(proxy: ProxyEndpoint) { self.rawValue = proxy.description }

    /// Wraps a literal name (tests and examples).
    public init(stringLiteral value: String) { self.rawValue = value }

    public static func < (lhs: GatewayID, rhs: GatewayID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }
}

/// Where a gateway's HTTP proxy listens: a host (an IP literal or a name) and a TCP port.
///
/// The core never connects to it; the shell's prober sends its HTTP GET through it.
public struct ProxyEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal, or a host name.
    public var host: String
    /// The proxy's TCP port (3128 for squid, 8888 for tinyproxy by default).
    public var port: UInt16

    /// Creates an endpoint.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; `nil` if the host is empty or the port is missing,
    /// zero or out of range.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":"), let port = UInt16(trimmed[trimmed.index(after: colon)...]),
              port != 0
        else { return nil }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    public static func < (lhs: ProxyEndpoint, rhs: ProxyEndpoint) -> Bool { (lhs.host, lhs.port) < (rhs.host, rhs.port) }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An Internet gateway that nodes of the cloud may use: an HTTP proxy reachable over the mesh.
///
/// Gateways are declared in the config file or announced by the node that runs them
/// (`{gateway, proxy endpoint, capacity, current clients}`, signed by that node). The shell
/// merges both sources and hands the list to ``GatewaySelector/updateGateways(_:)``.
public struct Gateway: Hashable, Sendable, CustomStringConvertible {
    /// Where a gateway's description came from.
    public enum Origin: Hashable, Sendable {
        /// The local config file.
        case configured
        /// A gateway announcement signed by this node.
        case announced(by: NodeID)
    }

    /// The gateway's name.
    public var id: GatewayID
    /// The HTTP proxy that probes and users go through.
    public var proxy: ProxyEndpoint
    /// The number of clients the gateway's operator says it can serve well, or `nil` when not
    /// advertised (the selector then assumes ``SelectorSettings/assumedCapacity``).
    public var capacity: Int?
    /// The clients the gateway itself reported in its last announcement (it may serve clients
    /// from other clouds that this cloud's selection announcements do not count).
    public var announcedClients: Int?
    /// The hop count from this node, when set statically in the config. A ``HopTable`` entry
    /// for ``routeKey`` takes precedence (``GatewaySelector/hops(of:)``).
    public var hops: Int?
    /// The gateway's key in the routing daemon's tables: an originator MAC for batman-adv, a
    /// node name, short ID or primary IP for bmx7, a router ID, prefix or address for babeld.
    /// `nil` means the proxy's host.
    public var routeKey: String?
    /// Where this description came from.
    public var origin: Origin

    /// Creates a gateway description.
    ///
    /// - Parameters:
    ///   - id: its name; defaults to the proxy endpoint as `host:port`.
    ///   - proxy: the proxy endpoint.
    ///   - capacity: advertised client capacity, if any.
    ///   - announcedClients: clients the gateway reported, if any.
    ///   - hops: a static hop count, if configured.
    ///   - routeKey: its key in the hop table, if not the proxy host.
    ///   - origin: config or announcement.
    public init(
        id: GatewayID? = nil, proxy: ProxyEndpoint, capacity: Int? = nil, announcedClients: Int? = nil,
        hops: Int? = nil, routeKey: String? = nil, origin: Origin = .configured
    ) {
        self.id = id ?? GatewayID(proxy: proxy)
        self.proxy = proxy
        self.capacity = capacity
        self.announcedClients = announcedClients
        self.hops = hops
        self.routeKey = routeKey
        self.origin = origin
    }

    /// The key to look up in a ``HopTable``: ``routeKey``, else the proxy host.
    public var hopKey: String { routeKey ?? proxy.host }

    public var description: String { id.rawValue == proxy.description ? id.rawValue : "\(id) (\(proxy))" }
}

/// The user's preferences over gateways: RIMO Algorithm 1's `preferences`, applied by its
/// Filter procedure (lines 1-7) through ``Rimo/filter(_:preferences:maxHops:hops:)``.
///
/// The paper leaves their content open ("economic cost and trust"); ours are an allow list, a
/// deny list and a hop limit.
public struct GatewayPreferences: Hashable, Sendable {
    /// If not empty, only these gateways may be used. Empty means every gateway is allowed.
    public var allow: Set<GatewayID>
    /// Gateways never to use. Wins over ``allow``.
    public var deny: Set<GatewayID>
    /// The farthest gateway to consider, in hops; `nil` for no limit beyond the selector's
    /// horizon (``SelectorSettings/maxHops``). This is the paper's "proxy selection horizon"
    /// (RIMO section 4).
    public var maxHops: Int?

    /// Creates preferences; the defaults allow every gateway.
    public init(allow: Set<GatewayID> = [], deny: Set<GatewayID> = [], maxHops: Int? = nil) {
        self.allow = allow
        self.deny = deny
        self.maxHops = maxHops
    }

    /// Whether the allow and deny lists admit `gateway` (the hop limit is checked by the filter,
    /// which knows the hop counts).
    public func admits(_ gateway: GatewayID) -> Bool {
        if deny.contains(gateway) { return false }
        return allow.isEmpty || allow.contains(gateway)
    }
}
