import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon as a swift-service-lifecycle `Service`: runs the node and its API until a
/// graceful shutdown (SIGTERM or SIGINT), then announces its leave and removes the socket.
/// SIGHUP re-reads the keyring.
public struct OverlayService: Service {
    private let runtime: NodeRuntime
    private let api: APIServer
    private let logger: Logger

    /// Creates the service.
    public init(runtime: NodeRuntime, api: APIServer, logger: Logger) {
        self.runtime = runtime
        self.api = api
        self.logger = logger
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        await runtime.start()
        try await api.start()
        logger.info("ready")
        let runtime = runtime
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                await runtime.reloadKeyring()
            }
        }
        try? await gracefulShutdown()
        reloads.cancel()
        await api.stop()
        await runtime.leave()
        logger.info("stopped")
    }
}
