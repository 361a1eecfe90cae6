import NIOCore
import NIOHTTP1
import NIOPosix
import OverlayCore

/// `GET /metrics` on a TCP address (`api.metrics_address`), for a Prometheus server that cannot
/// read the API socket.
///
/// It answers that one route and nothing else (404 `not_found` for every other path, so the
/// peers, gateways and write routes stay behind the socket's file mode). Off unless configured.
public actor MetricsServer {
    /// The address asked for.
    public nonisolated let address: PeerEndpoint
    private let router: APIRouter
    private let group: any EventLoopGroup
    private var channel: (any Channel)?

    /// Creates a server; nothing happens until ``start()``.
    ///
    /// - Parameters:
    ///   - address: `host:port` to listen on; port 0 picks a free port (see ``boundPort``).
    ///   - provider: where the metrics come from.
    ///   - version: the daemon's version string.
    ///   - group: the event loops to run on.
    public init(
        address: PeerEndpoint, provider: any LocalAPIProvider, version: String,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.address = address
        self.router = APIRouter(provider: provider, version: version, writePolicy: APIWritePolicy(), only: ["/metrics"])
        self.group = group
    }

    /// Binds the address and starts answering.
    ///
    /// - Throws: ``APIServerError`` naming the address when it cannot be bound (in use, not local).
    public func start() async throws {
        let router = self.router
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: APIServer.idleTimeout))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(APIHTTPHandler(router: router))
                }
            }
        do {
            channel = try await bootstrap.bind(host: address.host, port: Int(address.port)).get()
        } catch {
            throw APIServerError("cannot serve metrics on \(address) (api.metrics_address): \(error); choose a free port on a local address")
        }
    }

    /// The TCP port actually bound, once started.
    public var boundPort: Int? { channel?.localAddress?.port }

    /// Stops listening. Calling it again does nothing.
    public func stop() async {
        try? await channel?.close()
        channel = nil
    }
}
