import Foundation
import OverlayAPI
import OverlayNode

/// A fixed provider: three peers and this node, a status, a metrics text, three gateways, their
/// observations, a selection, and an event hub the tests publish to.
struct FakeProvider: GatewayAPIProvider, MembershipAPIProvider {
    static let localID = String(repeating: "ab", count: 32)
    static let suspectID = String(repeating: "3c", count: 32)
    static let failedID = String(repeating: "01", count: 32)
    static let gatewayID = String(repeating: "f0", count: 32)

    var peerRows: [PeerInfo] = [
        PeerInfo(
            id: gatewayID, name: "gw-sants", address: "10.1.2.3:7946", state: "alive", incarnation: 4,
            lastHeardSecondsAgo: 0.42, roundTripMs: 12.5, isLocal: false),
        PeerInfo(
            id: failedID, name: "node-07", address: "10.1.2.7:7946", state: "failed", incarnation: 1,
            lastHeardSecondsAgo: 75, roundTripMs: nil, isLocal: false),
        PeerInfo(
            id: localID, name: "node-12", address: "10.1.2.12:7946", state: "alive", incarnation: 2,
            lastHeardSecondsAgo: nil, roundTripMs: nil, isLocal: true),
        PeerInfo(
            id: suspectID, name: "gw-raval", address: "[fd00::9]:7946", state: "suspect", incarnation: 7,
            lastHeardSecondsAgo: nil, roundTripMs: 153.2, isLocal: false),
    ]

    func status() async -> StatusResponse {
        StatusResponse(
            schema: 99, version: "provider-version",
            node: NodeInfo(id: Self.localID, name: "node-12", endpoint: "10.1.2.12:7946"),
            uptimeSeconds: 7512.5, incarnation: 2,
            members: MemberCounts(alive: 2, suspect: 1, failed: 1, left: 0),
            localHealth: 0, protocolPeriodMs: 1000)
    }

    func peers() async -> [PeerInfo] { peerRows }

    func metricsText() async -> String {
        "# TYPE overlayd_members gauge\noverlayd_members{state=\"alive\"} 2\n"
    }

    // MARK: Gateways

    /// Where events are published and refresh requests counted; shared by copies of the provider.
    let hub = EventHub()

    var gatewayRows: [GatewayInfo] = [
        GatewayInfo(
            id: "gw-raval", proxy: "10.9.0.1:8888", origin: "announced", announcedBy: suspectID, hops: 5,
            eligible: true, estimateMs: 10_000, ttfbMs: nil, observers: 2, failures: 2, ageSeconds: 40,
            clients: 0, capacity: nil, isCurrent: false),
        GatewayInfo(
            id: "10.1.2.3:3128", proxy: "10.1.2.3:3128", origin: "configured", hops: 2, eligible: true,
            estimateMs: 41, ttfbMs: 12, observers: 3, failures: 0, ageSeconds: 12.2, clients: 4, capacity: 32,
            isCurrent: true),
        GatewayInfo(
            id: "gw-poble", proxy: "[fd00::7]:3128", origin: "configured", hops: nil, eligible: false,
            excludedReason: "denied by preferences", estimateMs: nil, observers: 0, failures: 0, ageSeconds: nil,
            clients: 1, capacity: 8, isCurrent: false),
    ]

    var observationRows: [ObservationInfo] = [
        ObservationInfo(
            observer: suspectID, observerName: "gw-raval", gateway: "gw-raval", ok: false, failure: "timeout",
            contentLatencyMs: nil, ttfbMs: nil, bytes: 0, hops: nil, ageSeconds: 62, sequence: 1_714_557_600_000),
        ObservationInfo(
            observer: localID, observerName: "node-12", gateway: "10.1.2.3:3128", ok: true, failure: nil,
            contentLatencyMs: 41.04, ttfbMs: 12, bytes: 512, hops: 2, ageSeconds: 12.2, sequence: 1_714_557_650_000),
        ObservationInfo(
            observer: gatewayID, observerName: nil, gateway: "10.1.2.3:3128", ok: true, failure: nil,
            contentLatencyMs: 38.5, ttfbMs: 11.1, bytes: 512, hops: 1, ageSeconds: 30, sequence: 1_714_557_640_000),
    ]

    var selectionAnswer = SelectionResponse(
        schema: 99, version: "provider-version", strategy: "collaborative", current: "10.1.2.3:3128",
        previous: "gw-raval", reason: "current_failed", decidedSecondsAgo: 125,
        explanation: "Switched to 10.1.2.3:3128: gw-raval failed for most observers.", round: 12,
        candidates: [
            CandidateInfo(
                gateway: "gw-raval", basis: "shared", contentLatencyMs: nil, observers: 2, spreadMs: 12, clients: 0, score: nil,
                usable: false, isPrevious: true, chosen: false),
            CandidateInfo(
                gateway: "10.1.2.3:3128", basis: "probed", contentLatencyMs: 41.04, observers: 1, clients: 4,
                score: 46.17, usable: true, isPrevious: false, chosen: true),
            CandidateInfo(
                gateway: "gw-sants", basis: "unmeasured", contentLatencyMs: nil, observers: 0, clients: 0, score: nil,
                usable: false, isPrevious: false, chosen: false),
        ],
        probesSent: 3, sharedEstimatesUsed: 17, roundsCompleted: 12, nextRoundInSeconds: 252)

    func gateways() async -> [GatewayInfo] { gatewayRows }

    func observations() async -> [ObservationInfo] { observationRows }

    func selection() async -> SelectionResponse { selectionAnswer }

    func refreshSelection() async -> RefreshResponse {
        hub.countRefresh()
        return RefreshResponse(schema: 99, version: "provider-version", accepted: true, message: "a selection round starts now")
    }

    func events() async -> AsyncStream<EventRecord> { hub.subscribe() }

    // MARK: Membership

    func membershipView() async -> MembershipResponse {
        MembershipResponse(
            schema: 99, version: "provider-version", epoch: 4, lineage: "0a0b", members: [
                ViewMemberInfo(id: Self.localID, name: "node-12", state: "alive", reachable: true),
                ViewMemberInfo(id: Self.suspectID, name: "gw-raval", state: "suspect", reachable: true),
                ViewMemberInfo(id: Self.failedID, name: nil, state: nil, reachable: false),
            ],
            quorum: true, reachable: 2, viewSize: 3, majority: 2, isMember: true, round: 0, proposals: [])
    }
}

/// The provider of an older or smaller node: only the routes of ``LocalAPIProvider`` (no gateway
/// routes, no quorum view).
struct MinimalProvider: LocalAPIProvider {
    let base = FakeProvider()

    func status() async -> StatusResponse { await base.status() }
    func peers() async -> [PeerInfo] { await base.peers() }
    func metricsText() async -> String { await base.metricsText() }
}

/// Fans events out to every subscriber of ``FakeProvider/events()``, and counts refreshes.
final class EventHub: @unchecked Sendable {
    private let lock = NSLock()
    private var subscribers: [Int: AsyncStream<EventRecord>.Continuation] = [:]
    private var nextID = 0
    private var refreshes = 0

    /// A new subscription; it is dropped when its consumer stops iterating.
    func subscribe() -> AsyncStream<EventRecord> {
        let (stream, continuation) = AsyncStream<EventRecord>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = lock.withLock {
            nextID += 1
            subscribers[nextID] = continuation
            return nextID
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends a record to every subscriber.
    func publish(_ record: EventRecord) {
        let targets = lock.withLock { Array(subscribers.values) }
        for continuation in targets { continuation.yield(record) }
    }

    /// Ends every subscription, as a node that stops does.
    func finishAll() {
        let targets = lock.withLock { Array(subscribers.values) }
        for continuation in targets { continuation.finish() }
    }

    /// How many subscriptions are open.
    var subscriberCount: Int { lock.withLock { subscribers.count } }

    /// How many times ``FakeProvider/refreshSelection()`` was called.
    var refreshCount: Int { lock.withLock { refreshes } }

    func countRefresh() { lock.withLock { refreshes += 1 } }

    /// Waits (polling) until `condition` holds, for at most `seconds`.
    func wait(upTo seconds: Double = 5, until condition: (EventHub) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }
}

extension EventRecord {
    /// A member event for tests: `name` moved from `from` to `to`.
    static func memberChange(_ name: String, _ from: String?, _ to: String?, at: Int64) -> EventRecord {
        .member(MemberEvent(id: FakeProvider.suspectID, name: name, from: from, to: to, incarnation: 7), atMs: at)
    }
}

/// A fresh, short temporary directory (Unix socket paths must stay under 108 bytes).
func makeTemporaryDirectory() throws -> String {
    var template = Array("/tmp/ovl-api-XXXXXX".utf8CString)
    guard let result = mkdtemp(&template) else {
        throw CocoaError(.fileWriteUnknown)
    }
    return String(cString: result)
}

/// Removes a temporary directory and what it holds.
func removeTemporaryDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}
