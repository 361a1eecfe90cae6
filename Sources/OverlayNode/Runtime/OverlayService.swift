import Logging
import ServiceLifecycle
import UnixSignals

/// The daemon as a swift-service-lifecycle `Service`: runs the node and its API until a
/// graceful shutdown (SIGTERM or SIGINT), then announces its leave and removes the socket.
/// SIGHUP reloads the config file and the keyring (``NodeRuntime/reload()``), as
/// `POST /v1/reload` does; an invalid config is refused, logged, and the old one kept.
public struct OverlayService: Service {
    private let runtime: NodeRuntime
    private let api: APIServer
    private let metrics: MetricsServer?
    private let logger: Logger

    /// Creates the service.
    ///
    /// - Parameters:
    ///   - runtime: the node.
    ///   - api: its local API server.
    ///   - metrics: the metrics-only TCP listener (`api.metrics_address`), if configured.
    ///   - logger: the daemon's logger.
    public init(runtime: NodeRuntime, api: APIServer, metrics: MetricsServer? = nil, logger: Logger) {
        self.runtime = runtime
        self.api = api
        self.metrics = metrics
        self.logger = logger
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        await runtime.start()
        try await api.start()
        if let metrics {
            do {
                try await metrics.start()
            } catch {
                await api.stop()
                await runtime.stop()
                throw error
            }
        }
        logger.info("ready")
        let runtime = runtime
        let reloads = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                _ = await runtime.reload()
            }
        }
        try? await gracefulShutdown()
        reloads.cancel()
        await metrics?.stop()
        await api.stop()
        await runtime.leave()
        logger.info("stopped")
    }
}
