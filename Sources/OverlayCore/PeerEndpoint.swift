import Foundation

/// Where a node receives datagrams: a host (an IP literal or a name) and a UDP port.
///
/// The core treats it as an opaque value; the shell resolves it to a socket address and the
/// simulator maps it to a simulated node.
public struct PeerEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// An IPv4 or IPv6 literal, or a host name.
    public var host: String
    /// The UDP port.
    public var port: UInt16

    /// Creates an endpoint.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` or `[v6]:port`; returns `nil` if the port is missing or out of range.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":"), let port = UInt16(trimmed[trimmed.index(after: colon)...]) else {
            return nil
        }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, port != 0 else { return nil }
        self.init(host: host, port: port)
    }

    public static func < (lhs: PeerEndpoint, rhs: PeerEndpoint) -> Bool {
        (lhs.host, lhs.port) < (rhs.host, rhs.port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
