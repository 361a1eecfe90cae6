import OverlayCore

/// What the shell needs for gateway selection, resolved from `[gateways]` and `[gateway]`.
public struct GatewayRuntimeOptions: Sendable {
    /// The core's settings: gateways, preferences, strategy, selector windows, timings.
    public var settings: GatewayGossipSettings
    /// The HTTP probe.
    public var probe: ProbeSettings
    /// The routing daemon's table, when `hop_source` is not `static`.
    public var hopSource: HopSourceReader?
    /// Time between reads of the hop source.
    public var hopRefresh: Duration

    /// Creates options.
    public init(settings: GatewayGossipSettings, probe: ProbeSettings, hopSource: HopSourceReader? = nil, hopRefresh: Duration = .seconds(30)) {
        self.settings = settings
        self.probe = probe
        self.hopSource = hopSource
        self.hopRefresh = hopRefresh
    }

    /// The options a configuration gives.
    public init(configuration: NodeConfiguration) {
        let gateways = configuration.gateways
        let settings = gateways.gossipSettings(local: configuration.localGateway)
        self.settings = settings
        self.probe = ProbeSettings(
            url: gateways.probeURL, expectedBytes: gateways.expectedBytes, timeout: settings.probeTimeout,
            maxConcurrent: gateways.maxConcurrentProbes)
        if let format = gateways.hopSource.format, let command = gateways.hopCommandInForce {
            self.hopSource = HopSourceReader(format: format, command: command)
        }
        self.hopRefresh = gateways.hopRefresh
    }
}
