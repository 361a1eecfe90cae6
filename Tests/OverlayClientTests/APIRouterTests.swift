import Foundation
import OverlayAPI
import OverlayNode
import Testing

/// The router alone: paths, methods, filters and error bodies, without any socket.
struct APIRouterTests {
    let router = APIRouter(provider: FakeProvider(), version: "9.9.9")

    private func decodeError(_ response: APIResponse) throws -> APIErrorResponse {
        try APISchema.makeDecoder().decode(APIErrorResponse.self, from: response.body)
    }

    private func decodePeers(_ response: APIResponse) throws -> [PeerInfo] {
        try APISchema.makeDecoder().decode(PeersResponse.self, from: response.body).peers
    }

    @Test func routeTableIsSortedByPath() {
        let paths = APIRouter.routes.map(\.path)
        #expect(paths == paths.sorted())
        #expect(paths == [
            "/metrics", "/v1/events", "/v1/gateways", "/v1/keys", "/v1/keys/add", "/v1/keys/retire", "/v1/keys/revoke", "/v1/keys/roll",
            "/v1/membership", "/v1/observations", "/v1/peers", "/v1/reload", "/v1/selection", "/v1/selection/refresh", "/v1/status",
        ])
    }

    @Test func unknownPathIsNotFoundWithAJSONError() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/nope")
        #expect(response.status == 404)
        #expect(response.contentType == "application/json")
        let error = try decodeError(response)
        #expect(error.schema == 1)
        #expect(error.version == "9.9.9")
        #expect(error.error.code == .notFound)
        #expect(error.error.message.contains("/v1/nope"))
        #expect(error.error.message.contains("/v1/peers"))
    }

    @Test func wrongMethodIsMethodNotAllowedWithAnAllowHeader() async throws {
        let response = await router.respond(method: "POST", uri: "/v1/peers")
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET")
        #expect(try decodeError(response).error.code == .methodNotAllowed)
    }

    @Test func unknownStateIsBadRequestNamingTheValue() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/peers?state=alive,bogus")
        #expect(response.status == 400)
        let error = try decodeError(response)
        #expect(error.error.code == .badRequest)
        #expect(error.error.message.contains("'bogus'"))
    }

    @Test func emptyStateEntryIsBadRequest() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/peers?state=alive,,failed")
        #expect(response.status == 400)
    }

    @Test func unknownQueryParameterIsBadRequest() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/peers?colour=red")
        #expect(response.status == 400)
        #expect(try decodeError(response).error.message.contains("'colour'"))
        #expect(await router.respond(method: "GET", uri: "/v1/status?state=alive").status == 400)
    }

    @Test func brokenPercentEncodingIsBadRequest() async throws {
        #expect(await router.respond(method: "GET", uri: "/v1/peers?name=%zz").status == 400)
        #expect(await router.respond(method: "GET", uri: "/v1/peers?name=%ff").status == 400)
    }

    @Test func peersListThisNodeFirstThenByName() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/peers")
        #expect(response.status == 200)
        #expect(try decodePeers(response).map(\.name) == ["node-12", "gw-raval", "gw-sants", "node-07"])
    }

    @Test func stateFilterKeepsEveryListedState() async throws {
        let commaList = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?state=suspect,failed"))
        #expect(commaList.map(\.name) == ["gw-raval", "node-07"])
        let repeated = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?state=suspect&state=FAILED"))
        #expect(repeated == commaList)
        let encodedComma = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?state=suspect%2Cfailed"))
        #expect(encodedComma == commaList)
    }

    @Test func nameFilterMatchesASubstringOrAGlob() async throws {
        let substring = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?name=GW"))
        #expect(substring.map(\.name) == ["gw-raval", "gw-sants"])
        let glob = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?name=node-*2"))
        #expect(glob.map(\.name) == ["node-12"])
        let anchored = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?name=*val"))
        #expect(anchored.map(\.name) == ["gw-raval"])
        let combined = try decodePeers(await router.respond(method: "GET", uri: "/v1/peers?name=gw-*&state=alive"))
        #expect(combined.map(\.name) == ["gw-sants"])
    }

    @Test func globMatchingHandlesStarsAnywhere() {
        #expect(PeerFilter.nameMatches("gw-sants", pattern: "*"))
        #expect(PeerFilter.nameMatches("gw-sants", pattern: "g*s*s"))
        #expect(PeerFilter.nameMatches("gw-sants", pattern: "**sants"))
        #expect(!PeerFilter.nameMatches("gw-sants", pattern: "g*x"))
        #expect(!PeerFilter.nameMatches("gw-sants", pattern: "sants*"))
        #expect(PeerFilter.nameMatches("aaab", pattern: "*a*ab"))
        #expect(PeerFilter.nameMatches("", pattern: "*"))
    }

    @Test func resolveParsesFiltersWithoutAnsweringTheRequest() throws {
        #expect(try APIRouter.resolve(method: "GET", uri: "/v1/peers?state=alive&name=gw%20*").get().path == "/v1/peers")
        #expect(try PeerFilter.parse(state: ["alive"], name: ["gw *"]) == PeerFilter(states: ["alive"], namePattern: "gw *"))
        #expect(try APIRouter.resolve(method: "GET", uri: "http://localhost/v1/status").get().path == "/v1/status")
        #expect(try APIRouter.resolve(method: "GET", uri: "/metrics").get().path == "/metrics")
        // A bad filter is refused while resolving, before any handler runs.
        guard case .failure(let rejection) = APIRouter.resolve(method: "GET", uri: "/v1/peers?state=asleep") else {
            Issue.record("a bad state filter was accepted")
            return
        }
        #expect(rejection.status == 400)
    }

    @Test func everyResponseCarriesTheDaemonVersion() async {
        for uri in ["/v1/status", "/v1/peers", "/metrics", "/nope"] {
            let response = await router.respond(method: "GET", uri: uri)
            #expect(response.headers["X-Overlayd-Version"] == "9.9.9", "\(uri)")
        }
    }

    @Test func statusCarriesTheRoutersSchemaAndVersion() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/status")
        #expect(response.contentType == "application/json")
        let status = try APISchema.makeDecoder().decode(StatusResponse.self, from: response.body)
        #expect(status.schema == APISchema.version)
        #expect(status.version == "9.9.9")
        #expect(status.members.total == 4)
    }

    @Test func metricsUseThePrometheusContentType() async {
        let response = await router.respond(method: "GET", uri: "/metrics")
        #expect(response.status == 200)
        #expect(response.contentType == "text/plain; version=0.0.4")
        #expect(String(decoding: response.body, as: UTF8.self).contains("overlayd_members"))
    }

    @Test func jsonKeysAreSnakeCaseAndUnknownValuesAreNull() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/peers?name=node-12")
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let peer = try #require((object?["peers"] as? [[String: Any]])?.first)
        #expect(Set(peer.keys) == ["id", "name", "address", "state", "incarnation", "last_heard_seconds_ago", "round_trip_ms", "is_local"])
        #expect(peer["round_trip_ms"] is NSNull)
        #expect(object?["schema"] as? Int == 1)

        let status = try JSONSerialization.jsonObject(with: await router.respond(method: "GET", uri: "/v1/status").body) as? [String: Any]
        #expect(Set(status?.keys.map { $0 } ?? []) == ["schema", "version", "node", "uptime_seconds", "incarnation", "members", "local_health", "protocol_period_ms", "view", "suspicious"])
        #expect(status?["view"] is NSNull, "a node without a view says so with null")
        #expect((status?["suspicious"] as? [Any])?.isEmpty == true, "no suspicious member is an empty list, never left out")
    }

    @Test func membershipCarriesTheRoutersSchemaAndVersion() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/membership")
        #expect(response.status == 200)
        let membership = try APISchema.makeDecoder().decode(MembershipResponse.self, from: response.body)
        #expect(membership.schema == 1)
        #expect(membership.version == "9.9.9")
        #expect(membership.epoch == 4)
        #expect(membership.members.map(\.reachable) == [true, true, false])
        #expect(await router.respond(method: "POST", uri: "/v1/membership").status == 405)
        #expect(await router.respond(method: "GET", uri: "/v1/membership?epoch=4").status == 400)
    }

    @Test func membershipIsUnavailableWithoutAQuorumView() async throws {
        let router = APIRouter(provider: MinimalProvider(), version: "9.9.9")
        let response = await router.respond(method: "GET", uri: "/v1/membership")
        #expect(response.status == 503)
        #expect(try decodeError(response).error.code == .unavailable)
    }
}
