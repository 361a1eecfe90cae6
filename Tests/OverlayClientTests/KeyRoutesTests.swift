import Foundation
import OverlayAPI
import OverlayClient
import OverlayCore
import OverlayNode
import Testing

/// The key routes of the router (`/v1/keys...`) with a provider that records the changes it is
/// asked for, and the table `overlayctl keys` prints.
struct KeyRoutesTests {
    /// A node with two keys; records each change and refuses revocations.
    actor KeysProvider: KeysAPIProvider {
        var changes: [KeyChange] = []
        let table = KeysResponse(localKey: String(repeating: "ab", count: 32), keys: [
            KeyInfo(id: String(repeating: "ab", count: 32), label: "can-roca", validFrom: nil, validUntil: "2027-01-31T00:00:00Z",
                    state: "overlap", source: "keyring", successor: String(repeating: "cd", count: 32), isLocal: true),
            KeyInfo(id: String(repeating: "cd", count: 32), label: "can-roca (rolled)", validFrom: "2027-01-17T10:00:00Z", validUntil: nil,
                    state: "active", source: "roll", predecessor: String(repeating: "ab", count: 32)),
        ])
        func status() async -> StatusResponse { await FakeProvider().status() }
        func peers() async -> [PeerInfo] { [] }
        func metricsText() async -> String { "" }
        func keys() async -> KeysResponse { table }
        func changeKeys(_ change: KeyChange) async -> Result<KeysResponse, KeyChangeRefused> {
            changes.append(change)
            if case .revoke = change { return .failure(KeyChangeRefused(description: "this node's key may not revoke it")) }
            var answer = table
            answer.message = "done"
            return .success(answer)
        }
    }

    static let key = String(repeating: "5a", count: 32)

    @Test func theKeyTableIsServedWithTheRoutersVersion() async throws {
        let router = APIRouter(provider: KeysProvider(), version: "9.9.9")
        let response = await router.respond(method: "GET", uri: "/v1/keys")
        #expect(response.status == 200)
        let keys = try APISchema.makeDecoder().decode(KeysResponse.self, from: response.body)
        #expect(keys.version == "9.9.9")
        #expect(keys.keys.map(\.state) == ["overlap", "active"])
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let first = try #require((object?["keys"] as? [[String: Any]])?.first)
        #expect(Set(first.keys).isSuperset(of: ["id", "state", "source", "valid_until", "operator", "local"]))
    }

    @Test func changesReachTheProviderWithTheirParametersParsed() async throws {
        let provider = KeysProvider()
        let router = APIRouter(provider: provider, version: "1", writePolicy: APIWritePolicy(daemonUID: 4242))
        let root = APICaller(uid: 0)
        #expect(await router.respond(method: "POST", uri: "/v1/keys/roll?overlap_days=3", caller: root).status == 200)
        #expect(await router.respond(method: "POST", uri: "/v1/keys/roll", caller: root).status == 200)
        #expect(await router.respond(method: "POST", uri: "/v1/keys/add?key=\(Self.key)&label=escola&until=2027-01-31&role=operator", caller: root).status == 200)
        #expect(await router.respond(method: "POST", uri: "/v1/keys/retire?key=\(Self.key)", caller: root).status == 200)
        let id = try #require(NodeID(hex: Self.key))
        let changes = await provider.changes
        #expect(changes == [
            .roll(overlap: .seconds(3 * 86_400)), .roll(overlap: .seconds(14 * 86_400)),
            .add(Keyring.Entry(id: id, label: "escola", validUntil: Instant(milliseconds: 1_801_440_000_000), mayRevoke: true)),
            .retire(id),
        ])
        let refused = await router.respond(method: "POST", uri: "/v1/keys/revoke?key=\(Self.key)", caller: root)
        #expect(refused.status == 422)
        #expect(String(decoding: refused.body, as: UTF8.self).contains("key_refused"))
    }

    @Test func badParametersAreRefusedBeforeTheProviderIsAsked() async {
        let provider = KeysProvider()
        let router = APIRouter(provider: provider, version: "1", writePolicy: APIWritePolicy(daemonUID: 4242))
        let root = APICaller(uid: 0)
        for uri in [
            "/v1/keys/roll?overlap_days=0", "/v1/keys/roll?overlap_days=366", "/v1/keys/roll?overlap_days=two",
            "/v1/keys/revoke", "/v1/keys/revoke?key=abc", "/v1/keys/add?key=\(Self.key)&from=2027-02-30",
            "/v1/keys/add?key=\(Self.key)&label=two%20words", "/v1/keys/add?key=\(Self.key)&role=admin",
            "/v1/keys/retire?key=\(Self.key)&key=\(Self.key)", "/v1/keys/roll?days=3",
        ] {
            #expect(await router.respond(method: "POST", uri: uri, caller: root).status == 400, "\(uri)")
        }
        #expect(await provider.changes.isEmpty)
    }

    @Test func changesNeedWritePermission() async {
        let provider = KeysProvider()
        let router = APIRouter(provider: provider, version: "1", writePolicy: APIWritePolicy(daemonUID: 4242))
        for path in ["/v1/keys/roll", "/v1/keys/add?key=\(Self.key)", "/v1/keys/retire?key=\(Self.key)", "/v1/keys/revoke?key=\(Self.key)"] {
            #expect(await router.respond(method: "POST", uri: path, caller: APICaller(uid: 1000)).status == 403, "\(path)")
        }
        #expect(await router.respond(method: "GET", uri: "/v1/keys", caller: APICaller(uid: 1000)).status == 200)
        #expect(await provider.changes.isEmpty)
    }

    @Test func theTableShowsStatesDaysAndRolls() {
        let text = KeyTable.render(KeysResponse(localKey: "", keys: [
            KeyInfo(id: String(repeating: "ab", count: 32), label: "can-roca", validFrom: nil, validUntil: "2027-01-31T00:00:00Z",
                    state: "overlap", source: "keyring", successor: String(repeating: "cd", count: 32), isLocal: true),
        ]).keys)
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true)
        #expect(lines.last?.contains("2027-01-31") == true)
        #expect(lines.last?.contains("overlap") == true)
        #expect(lines.last?.contains("self, rolled to cdcdcdcdcdcd") == true)
    }
}
