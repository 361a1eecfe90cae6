import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import OverlayAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local API: HTTP/1.1 and JSON on a Unix domain socket.
///
/// `curl --unix-socket /run/overlayd/overlayd.sock http://localhost/v1/peers` works against it,
/// and so does `overlayctl`. Routing and answers live in ``APIRouter``; this type only owns the
/// socket: it refuses to start when another daemon already answers on the path, removes a stale
/// socket file left by a crash, gives the socket its mode and group (who may connect) before it is
/// reachable, enforces ``APILimits``, and removes the file on
/// ``stop()``.
///
/// Access control: who may connect, and so read, is the socket file's mode and ownership (with
/// the default `0o660` the daemon's user and group, nobody else). Who may also call write routes
/// (`POST /v1/selection/refresh`) is decided per connection from the socket's peer credentials
/// by ``APIWritePolicy``: root and the daemon's own user.
public actor APIServer {
    /// The socket's path.
    public nonisolated let socketPath: String
    /// The mode the socket file gets after binding.
    public nonisolated let socketMode: mode_t
    /// The default socket mode, `0o660`: the daemon's user and group may connect (and so read
    /// the API); others may not.
    public static let defaultSocketMode: mode_t = 0o660
    /// How long a connection may stay silent before the server closes it, by default. A
    /// connection following the event stream is exempt: its client has nothing to say.
    public static let idleTimeout: TimeAmount = .seconds(30)
    /// How long a connection of this server may stay silent before it is closed.
    public nonisolated let idleTimeout: TimeAmount

    /// What one client may ask (``APILimits``).
    public nonisolated let limits: APILimits
    /// The group the socket file gets before it becomes reachable, or `nil` for the daemon's
    /// own group.
    public nonisolated let socketGroup: gid_t?

    private let router: APIRouter
    private let group: any EventLoopGroup
    private let connections = ConnectionRegistry()
    private var state: State = .idle

    private enum State {
        case idle
        case starting
        case running(any Channel, inode: ino_t?)
        case stopped
    }

    /// Creates a server; nothing happens until ``start()``.
    ///
    /// - Parameters:
    ///   - socketPath: where to listen, for example `/run/overlayd/overlayd.sock` (at most 107 bytes).
    ///   - socketMode: the socket file's mode; default ``defaultSocketMode`` (`0o660`).
    ///   - provider: where the answers come from.
    ///   - version: the daemon's version string, sent with every response.
    ///   - writePolicy: who may call write routes; default root and the daemon's own user.
    ///   - idleTimeout: how long a connection may stay silent; default ``idleTimeout`` (30 s).
    ///   - limits: what one client may ask; default ``APILimits/default``.
    ///   - socketGroup: the socket file's group, or `nil` (default) for the daemon's own.
    ///   - group: the event loops to run on; default the process-wide singleton.
    public init(
        socketPath: String, socketMode: mode_t = APIServer.defaultSocketMode, provider: any LocalAPIProvider,
        version: String, writePolicy: APIWritePolicy = APIWritePolicy(), idleTimeout: TimeAmount = APIServer.idleTimeout,
        limits: APILimits = .default, socketGroup: gid_t? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.socketPath = socketPath
        self.socketMode = socketMode
        self.limits = limits
        self.socketGroup = socketGroup
        self.idleTimeout = idleTimeout
        self.router = APIRouter(provider: provider, version: version, writePolicy: writePolicy)
        self.group = group
    }

    /// Binds the socket and starts answering.
    ///
    /// Creates the socket's directory (mode `0o755`) when it is missing, replaces a stale socket
    /// file, and gives the socket its mode (``socketMode``) and group (``socketGroup``) before
    /// anyone can reach it: it is bound inside a fresh directory of mode `0o700` next to the
    /// path, given its mode and group there, and only then renamed into place (a rename keeps
    /// the socket and is atomic), so there is no moment when the umask's mode applies.
    /// - Throws: ``APIServerError`` when the path is too long, another process answers on it,
    ///   it is not a socket, or it cannot be bound or given its mode.
    public func start() async throws {
        guard case .idle = state else {
            throw APIServerError("the API server on \(socketPath) was already started; create a new APIServer to start again")
        }
        state = .starting
        do {
            try Self.prepare(socketPath)
            let staging = try Self.makeStagingDirectory(near: socketPath)
            defer { rmdir(staging) }
            let stagedPath = staging + "/s"
            let channel = try await bind(stagedPath)
            func fail(_ message: String) async throws -> Never {
                try? await channel.close()
                unlink(stagedPath)
                throw APIServerError(message)
            }
            if chmod(stagedPath, socketMode) != 0 {
                try await fail("cannot set mode \(String(socketMode, radix: 8)) on \(socketPath): \(String(cString: strerror(errno)))")
            }
            if let socketGroup, chown(stagedPath, uid_t.max, socketGroup) != 0 {
                try await fail("cannot give \(socketPath) the group \(socketGroup): \(String(cString: strerror(errno))); the daemon's user must belong to it")
            }
            if rename(stagedPath, socketPath) != 0 {
                try await fail("cannot move the socket into place at \(socketPath): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            let inode = stat(socketPath, &info) == 0 ? info.st_ino : nil
            state = .running(channel, inode: inode)
        } catch {
            state = .idle
            throw error
        }
    }

    /// Stops listening, closes the open connections, and removes the socket file (unless another
    /// process has replaced it meanwhile).
    ///
    /// An event stream being followed ends with its terminating chunk, then its connection
    /// closes. A request being answered at that moment gets no response. Calling it again does nothing.
    public func stop() async {
        guard case .running(let channel, let inode) = state else {
            if case .idle = state { state = .stopped }
            return
        }
        state = .stopped
        try? await channel.close()
        await connections.closeAll()
        var info = stat()
        if stat(socketPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, inode == nil || info.st_ino == inode {
            unlink(socketPath)
        }
    }

    /// Whether the server is listening.
    public var isRunning: Bool {
        if case .running = state { return true }
        return false
    }

    private func bind(_ path: String) async throws -> any Channel {
        let router = self.router
        let connections = self.connections
        let idleTimeout = self.idleTimeout
        let limits = self.limits
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .childChannelInitializer { channel in
                let admitted = connections.add(channel, limit: limits.maxConnections)
                return channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    guard admitted else {
                        try pipeline.addHandler(ConnectionRefusal(
                            response: router.errorResponse(.tooManyConnections(limit: limits.maxConnections))))
                        return
                    }
                    let deadline = RequestDeadline()
                    try pipeline.addHandler(RequestClock(
                        deadline: deadline, timeout: limits.requestTimeout,
                        refusal: router.errorResponse(.requestTimeout(limits.requestTimeout))))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(APIHTTPHandler(router: router, limits: limits, deadline: deadline))
                }
            }
        do {
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        } catch {
            throw APIServerError("cannot listen on \(socketPath): \(error)")
        }
    }

    /// A new directory of mode `0o700` beside `path`, where the socket is bound before it is
    /// given its mode and group and moved into place.
    private static func makeStagingDirectory(near path: String) throws -> String {
        let directory = (path as NSString).deletingLastPathComponent
        let maxLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        for _ in 0..<8 {
            let name = String(format: ".%08x", UInt32.random(in: 0...UInt32.max))
            let staging = (directory.isEmpty ? "." : directory) + "/" + name
            guard staging.utf8.count + 2 <= maxLength else {
                throw APIServerError("the socket path \(path) leaves no room (12 bytes) for binding it safely under the \(maxLength)-byte limit of a Unix socket; choose a shorter path")
            }
            if mkdir(staging, 0o700) == 0 { return staging }
            if errno != EEXIST {
                throw APIServerError("cannot create a directory beside \(path) to bind the socket in: \(String(cString: strerror(errno)))")
            }
        }
        throw APIServerError("cannot create a directory beside \(path) to bind the socket in; remove stale .xxxxxxxx directories there")
    }

    /// Checks the path before binding: its length, its directory, and whether a live daemon or a
    /// non-socket file is already there.
    private static func prepare(_ path: String) throws {
        let maxLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
        guard path.utf8.count <= maxLength else {
            throw APIServerError("the socket path \(path) is \(path.utf8.count) bytes, more than the \(maxLength) a Unix socket allows; choose a shorter path")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            } catch {
                throw APIServerError("cannot create the socket directory \(directory): \(error.localizedDescription)")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw APIServerError("\(path) exists and is not a socket; remove it or choose another socket path")
        }
        if isAnswering(path) {
            throw APIServerError("another process (another overlayd?) is already listening on \(path); stop it or choose another socket path")
        }
    }

    /// Whether something accepts connections on the socket at `path` (a stale file refuses).
    private static func isAnswering(_ path: String) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}

/// The server's open connections, so that ``APIServer/stop()`` can close them.
private final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    /// Remembers a connection until it closes.
    ///
    /// - Returns: whether it is within `limit` open connections (it is remembered either way, so
    ///   that ``closeAll()`` also closes a refused one).
    func add(_ channel: any Channel, limit: Int) -> Bool {
        let key = ObjectIdentifier(channel)
        let admitted = channels.withLockedValue { channels -> Bool in
            channels[key] = channel
            return channels.count <= limit
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLockedValue { _ = $0.removeValue(forKey: key) }
        }
        return admitted
    }

    /// Closes every open connection, first letting a streamed response end cleanly
    /// (``APIServerStopping``).
    func closeAll() async {
        let open = channels.withLockedValue { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(APIServerStopping())
        }
        for channel in open {
            try? await channel.close()
        }
    }
}

/// Why the API server could not start, as one sentence that says what to do.
public struct APIServerError: Error, CustomStringConvertible, Sendable {
    /// One sentence for the operator.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
