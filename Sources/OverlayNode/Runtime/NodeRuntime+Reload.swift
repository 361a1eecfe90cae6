import Foundation
import Logging
import OverlayAPI
import OverlayCore

/// Reload (SIGHUP and `POST /v1/reload`): re-read the config file and the keyring, apply what
/// can change while the node runs, and refuse the whole reload, keeping the old settings, when
/// either is invalid. Membership is never touched: the node neither leaves nor rejoins.
extension NodeRuntime: ReloadAPIProvider {
    /// The keys that only take effect at start: changing them in the file is reported as
    /// `restart_required`, and the old values stay in force until the next start.
    static let restartKeys: [(String, @Sendable (NodeConfiguration, NodeConfiguration) -> Bool)] = [
        ("node.name", { $0.name != $1.name }),
        ("node.state_dir", { $0.stateDir != $1.stateDir }),
        ("network.bind", { $0.bind != $1.bind }),
        ("network.advertise", { $0.advertisedEndpoint != $1.advertisedEndpoint }),
        ("network.seeds", { $0.seeds != $1.seeds }),
        ("api.socket", { $0.socket != $1.socket }),
        ("api.socket_mode", { $0.socketMode != $1.socketMode }),
        ("api.socket_group", { $0.socketGroup != $1.socketGroup }),
        ("api.metrics_address", { $0.metricsAddress != $1.metricsAddress }),
        ("membership", { $0.membership != $1.membership }),
        ("security", {
            $0.clockSkewWindow != $1.clockSkewWindow || $0.senderRatePerSecond != $1.senderRatePerSecond
                || $0.senderBurst != $1.senderBurst
        }),
        ("log", { $0.logLevel != $1.logLevel || $0.logFormat != $1.logFormat }),
    ]

    /// Re-reads the config file (with the flags the daemon was started with) and the keyring,
    /// and applies them; see ``ReloadAPIProvider/reload()``.
    public func reload() async -> ReloadResponse {
        let outcome = performReload()
        metrics.reloads[outcome.reloaded ? "ok" : "refused"]?.increment()
        if outcome.reloaded {
            logger.notice("reloaded", metadata: [
                "applied": "\(outcome.applied.joined(separator: ","))",
                "restart_required": "\(outcome.restartRequired.joined(separator: ","))",
                "keys": "\(outcome.keyringKeys)",
            ])
        } else {
            logger.error("reload refused, keeping the old configuration: \(outcome.message)")
        }
        return outcome
    }

    private func performReload() -> ReloadResponse {
        let old = configuration
        // 1. Read everything first; apply nothing unless all of it is valid.
        let new: NodeConfiguration?
        do {
            new = try reread?()
        } catch {
            return refused("\(error)")
        }
        let path = new?.keyringPath ?? keyringPath
        let keyring: Keyring
        do {
            keyring = try StateDirectory.loadKeyring(path: path, localID: localID)
        } catch {
            return refused("\(error)")
        }

        // 2. Apply.
        var applied: [String] = []
        if keyring != agent.keyring {
            applied.append("keyring")
        }
        agent.updateKeyring(keyring)
        transport.admitSenders(agent.keyTrust.knownKeys.map(\.data))
        keyringPath = path
        var restart: [String] = []
        if let new {
            if let old {
                restart = Self.restartKeys.filter { $0.1(old, new) }.map(\.0)
            }
            if old?.gateways != new.gateways || old?.localGateway != new.localGateway {
                applied += reloadGateways(new)
            }
            // Keys that need a restart keep their old values in what is reported as in force.
            configuration = old.map { merged(old: $0, new: new) } ?? new
        }
        let message: String
        if applied.isEmpty, restart.isEmpty {
            message = "reloaded \(new?.source ?? "the keyring"); nothing changed"
        } else {
            var parts: [String] = []
            if !applied.isEmpty { parts.append("now in force: \(applied.joined(separator: ", "))") }
            if !restart.isEmpty {
                parts.append("changed but kept until a restart (systemctl restart overlayd): \(restart.joined(separator: ", "))")
            }
            message = "reloaded \(new?.source ?? "the keyring"); " + parts.joined(separator: "; ")
        }
        return ReloadResponse(
            version: version, reloaded: true, source: new?.source, keyringKeys: keyring.count, applied: applied,
            restartRequired: restart, message: message)
    }

    private func refused(_ reason: String) -> ReloadResponse {
        ReloadResponse(
            version: version, reloaded: false, source: configuration?.source, keyringKeys: agent.keyring.count,
            applied: [], restartRequired: [], message: "reload refused, the old configuration stays in force: \(reason)")
    }

    /// The new gateway settings, the rest as it runs.
    private func merged(old: NodeConfiguration, new: NodeConfiguration) -> NodeConfiguration {
        var config = old
        config.gateways = new.gateways
        config.localGateway = new.localGateway
        config.keyring = new.keyring
        config.source = new.source
        return config
    }

    /// Applies new gateway settings: preferences alone keep the selector; anything else restarts
    /// gateway selection (and its prober and hop source) with the new settings.
    private func reloadGateways(_ new: NodeConfiguration) -> [String] {
        let options = GatewayRuntimeOptions(configuration: new)
        let (change, directives) = agent.reloadGateways(options.settings, signer: signer, now: WallClock.now())
        let shellChanged = old(gatewayShell.options, differsFrom: options)
        if change == .restarted || change == .toggled || shellChanged {
            gatewayShell.hopTask?.cancel()
            for task in gatewayShell.probeTasks.values { task.cancel() }
            let listeners = gatewayShell.eventListeners
            gatewayShell = GatewayShellState(options: options, group: group)
            gatewayShell.eventListeners = listeners
            startGateways()
        }
        perform(directives)
        switch change {
        case .unchanged: return shellChanged ? ["gateways (prober, hop source)"] : []
        case .preferences: return ["gateways (allow, deny, max_hops)"]
        case .restarted, .toggled: return ["gateways (restarted: \(options.settings.strategy), \(options.settings.gateways.count) declared)"]
        }
    }

    private func old(_ current: GatewayRuntimeOptions?, differsFrom new: GatewayRuntimeOptions) -> Bool {
        guard let current else { return true }
        return current.probe != new.probe || current.hopRefresh != new.hopRefresh
            || current.hopSource?.command != new.hopSource?.command || current.hopSource?.format != new.hopSource?.format
    }
}
