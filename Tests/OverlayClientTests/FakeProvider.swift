import Foundation
import OverlayAPI
import OverlayNode

/// A fixed provider: three peers and this node, a status, and a metrics text.
struct FakeProvider: LocalAPIProvider {
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
