import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon as a swift-service-lifecycle `Service`: runs the node and its API until a
/// graceful shutdown (SIGTERM or SIGINT), then announces its leave and removes the socket.
/// SIGHUP re-reads the keyring, then runs `onReload` (the daemon re-reads its gateway
/// preferences there).
public struct OverlayService: Service {
    private let runtime: NodeRuntime
    private let api: APIServer
    private let logger: Logger
    private let onReload: (@Sendable (NodeRuntime) async -> Void)?

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - runtime: the node.
    ///   - api: its local API server.
    ///   - logger: the daemon's logger.
    ///   - onReload: more to do on SIGHUP, after the keyring; `nil` for nothing.
    public init(runtime: NodeRuntime, api: APIServer, logger: Logger, onReload: (@Sendable (NodeRuntime) async -> Void)? = nil) {
        self.runtime = runtime
        self.api = api
        self.logger = logger
        self.onReload = onReload
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        await runtime.start()
        try await api.start()
        logger.info("ready")
        let runtime = runtime
        let onReload = onReload
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                await runtime.reloadKeyring()
                await onReload?(runtime)
            }
        }
        try? await gracefulShutdown()
        reloads.cancel()
        await api.stop()
        await runtime.leave()
        logger.info("stopped")
    }
}
