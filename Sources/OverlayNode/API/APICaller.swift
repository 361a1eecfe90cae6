import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who is on the other end of an API connection: the peer credentials of the Unix socket
/// (`SO_PEERCRED` on Linux, `LOCAL_PEERCRED` on macOS), read once when the connection opens.
///
/// The kernel fills them in; a client cannot forge them. ``APIWritePolicy`` uses them to decide
/// who may call write routes.
public struct APICaller: Sendable, Equatable {
    /// The caller's effective user ID; `nil` when the credentials could not be read.
    public var uid: UInt32?
    /// The caller's effective group ID; `nil` when unknown.
    public var gid: UInt32?
    /// The caller's process ID; `nil` when unknown (macOS does not report it).
    public var pid: Int32?

    /// Creates a caller description.
    ///
    /// - Parameters:
    ///   - uid: the effective user ID, or `nil`.
    ///   - gid: the effective group ID, or `nil`.
    ///   - pid: the process ID, or `nil`.
    public init(uid: UInt32?, gid: UInt32? = nil, pid: Int32? = nil) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
    }

    /// A caller whose credentials are unknown: it may read, never write.
    public static let unidentified = APICaller(uid: nil)

    /// Reads the peer credentials of a connected Unix socket channel, on its event loop.
    ///
    /// - Parameter channel: an accepted connection of the API server.
    /// - Returns: a future of the caller; ``unidentified`` when the credentials cannot be read.
    static func credentials(of channel: any Channel) -> EventLoopFuture<APICaller> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(.unidentified)
        }
        #if os(Linux)
        let future: EventLoopFuture<LinuxPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future
            .map { APICaller(uid: $0.uid, gid: $0.gid, pid: $0.pid) }
            .recover { _ in APICaller.unidentified }
        #elseif canImport(Darwin)
        let future: EventLoopFuture<xucred> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_LOCAL), name: SocketOptionName(LOCAL_PEERCRED))
        return future
            .map { credentials in
                APICaller(uid: UInt32(credentials.cr_uid), gid: credentials.cr_ngroups > 0 ? UInt32(credentials.cr_groups.0) : nil)
            }
            .recover { _ in APICaller.unidentified }
        #else
        return channel.eventLoop.makeSucceededFuture(.unidentified)
        #endif
    }
}

#if os(Linux)
/// Linux's `struct ucred` (`SO_PEERCRED`), which Glibc only declares under `_GNU_SOURCE` and so
/// Swift does not import: a pid, a uid and a gid, as the kernel writes them.
private struct LinuxPeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}
#endif

/// Who may call the API's write routes (`POST /v1/selection/refresh`).
///
/// Reading is decided by the socket file's mode alone: whoever can connect may read. Writing
/// additionally needs the caller's user ID, from the socket's peer credentials, to be root (0) or
/// the user the daemon runs as. So members of the daemon's group read with `overlayctl` but
/// need `sudo` (or to run as the daemon's user) to force a reselection. A caller whose
/// credentials cannot be read may not write.
public struct APIWritePolicy: Sendable, Equatable {
    /// The user the daemon runs as; it may write, as may root.
    public var daemonUID: UInt32

    /// Creates a policy.
    ///
    /// - Parameter daemonUID: the user allowed to write besides root; default the process's
    ///   effective user ID.
    public init(daemonUID: UInt32 = UInt32(geteuid())) {
        self.daemonUID = daemonUID
    }

    /// Whether a caller may use write routes.
    ///
    /// - Parameter caller: the connection's credentials.
    /// - Returns: `true` for root and for the daemon's own user.
    public func allowsWrite(by caller: APICaller) -> Bool {
        guard let uid = caller.uid else { return false }
        return uid == 0 || uid == daemonUID
    }
}
