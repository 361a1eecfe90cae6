import Foundation
import OverlayAPI
import OverlayNode
import Testing

/// The gateway routes of the router alone: gateways, observations, selection, refresh, events.
struct GatewayRoutesTests {
    let provider = FakeProvider()
    var router: APIRouter { APIRouter(provider: provider, version: "9.9.9", writePolicy: APIWritePolicy(daemonUID: 4242)) }

    private func decode<T: Decodable>(_ type: T.Type, _ response: APIResponse) throws -> T {
        try APISchema.makeDecoder().decode(type, from: response.body)
    }

    @Test func gatewaysAreSortedByIDWithTheRoutersVersion() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/gateways")
        #expect(response.status == 200)
        #expect(response.contentType == "application/json")
        #expect(response.stream == nil)
        let gateways = try decode(GatewaysResponse.self, response)
        #expect(gateways.schema == 1)
        #expect(gateways.version == "9.9.9")
        #expect(gateways.gateways.map(\.id) == ["10.1.2.3:3128", "gw-poble", "gw-raval"])
        #expect(gateways.gateways.first?.isCurrent == true)
    }

    @Test func gatewayJSONKeysAreSnakeCaseAndUnknownValuesAreNull() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/gateways")
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let rows = try #require(object?["gateways"] as? [[String: Any]])
        let poble = try #require(rows.first { $0["id"] as? String == "gw-poble" })
        #expect(Set(poble.keys) == [
            "id", "proxy", "origin", "announced_by", "hops", "eligible", "excluded_reason", "estimate_ms", "ttfb_ms",
            "observers", "failures", "age_seconds", "clients", "capacity", "is_current",
        ])
        #expect(poble["hops"] is NSNull)
        #expect(poble["announced_by"] is NSNull)
        #expect(poble["excluded_reason"] as? String == "denied by preferences")
    }

    @Test func observationsAreSortedByGatewayThenObserver() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/observations")
        let rows = try decode(ObservationsResponse.self, response).observations
        #expect(rows.map(\.gateway) == ["10.1.2.3:3128", "10.1.2.3:3128", "gw-raval"])
        #expect(rows.map(\.observer) == [FakeProvider.localID, FakeProvider.gatewayID, FakeProvider.suspectID])
    }

    @Test func observationsFilterByExactGatewayAndObserverPrefix() async throws {
        let byGateway = try decode(
            ObservationsResponse.self, await router.respond(method: "GET", uri: "/v1/observations?gateway=10.1.2.3%3A3128"))
        #expect(byGateway.observations.count == 2)
        let notAPrefix = try decode(
            ObservationsResponse.self, await router.respond(method: "GET", uri: "/v1/observations?gateway=10.1.2.3"))
        #expect(notAPrefix.observations.isEmpty)
        let byObserver = try decode(
            ObservationsResponse.self, await router.respond(method: "GET", uri: "/v1/observations?observer=F0F0"))
        #expect(byObserver.observations.map(\.observer) == [FakeProvider.gatewayID])
        let both = try decode(
            ObservationsResponse.self,
            await router.respond(method: "GET", uri: "/v1/observations?observer=abab&gateway=gw-raval"))
        #expect(both.observations.isEmpty)
    }

    @Test func badObservationFiltersAreBadRequests() async throws {
        for uri in [
            "/v1/observations?observer=xyz", "/v1/observations?observer=", "/v1/observations?gateway=",
            "/v1/observations?gateway=a&gateway=b", "/v1/observations?observer=" + String(repeating: "a", count: 65),
            "/v1/observations?colour=red",
        ] {
            let response = await router.respond(method: "GET", uri: uri)
            #expect(response.status == 400, "\(uri)")
            #expect(try decode(APIErrorResponse.self, response).error.code == .badRequest, "\(uri)")
        }
        let message = try decode(APIErrorResponse.self, await router.respond(method: "GET", uri: "/v1/observations?observer=xyz"))
        #expect(message.error.message.contains("'xyz'"))
    }

    @Test func selectionCarriesTheRoutersSchemaAndKeepsCandidateOrder() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/selection")
        #expect(response.status == 200)
        let selection = try decode(SelectionResponse.self, response)
        #expect(selection.schema == 1)
        #expect(selection.version == "9.9.9")
        #expect(selection.current == "10.1.2.3:3128")
        #expect(selection.candidates.map(\.gateway) == ["gw-raval", "10.1.2.3:3128", "gw-sants"])
        #expect(selection.candidates.map(\.basis) == ["shared", "probed", "unmeasured"])
        let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        #expect(Set(object?.keys.map { $0 } ?? []) == [
            "schema", "version", "strategy", "current", "previous", "reason", "decided_seconds_ago", "explanation",
            "round", "candidates", "probes_sent", "shared_estimates_used", "rounds_completed", "next_round_in_seconds",
        ])
    }

    @Test func refreshIsAcceptedForRootAndForTheDaemonsUser() async throws {
        for uid: UInt32 in [0, 4242] {
            let response = await router.respond(method: "POST", uri: "/v1/selection/refresh", caller: APICaller(uid: uid))
            #expect(response.status == 202)
            let refresh = try decode(RefreshResponse.self, response)
            #expect(refresh == RefreshResponse(version: "9.9.9", accepted: true, message: "a selection round starts now"))
        }
        #expect(provider.hub.refreshCount == 2)
    }

    @Test func refreshIsForbiddenForOtherUsersAndUnknownCallers() async throws {
        for caller in [APICaller(uid: 1000, gid: 1000, pid: 77), APICaller.unidentified] {
            let response = await router.respond(method: "POST", uri: "/v1/selection/refresh", caller: caller)
            #expect(response.status == 403)
            let error = try decode(APIErrorResponse.self, response)
            #expect(error.error.code == .forbidden)
            #expect(error.error.message.contains("root"))
        }
        #expect(await router.respond(method: "POST", uri: "/v1/selection/refresh").status == 403)
        #expect(provider.hub.refreshCount == 0)
    }

    @Test func readRoutesNeedNoCredentials() async {
        for uri in ["/v1/gateways", "/v1/observations", "/v1/selection", "/v1/status"] {
            #expect(await router.respond(method: "GET", uri: uri, caller: .unidentified).status == 200, "\(uri)")
        }
    }

    @Test func wrongMethodsAreMethodNotAllowedWithTheRightAllowHeader() async throws {
        let get = await router.respond(method: "GET", uri: "/v1/selection/refresh", caller: APICaller(uid: 0))
        #expect(get.status == 405)
        #expect(get.headers["Allow"] == "POST")
        #expect(try decode(APIErrorResponse.self, get).error.code == .methodNotAllowed)
        for uri in ["/v1/gateways", "/v1/selection", "/v1/events", "/v1/observations"] {
            let post = await router.respond(method: "POST", uri: uri, caller: APICaller(uid: 0))
            #expect(post.status == 405, "\(uri)")
            #expect(post.headers["Allow"] == "GET", "\(uri)")
        }
        #expect(provider.hub.refreshCount == 0)
    }

    @Test func gatewayRoutesAreUnavailableWithoutGatewaySupport() async throws {
        let router = APIRouter(provider: MinimalProvider(), version: "9.9.9")
        for (method, uri) in [
            ("GET", "/v1/gateways"), ("GET", "/v1/observations"), ("GET", "/v1/selection"), ("GET", "/v1/events"),
            ("POST", "/v1/selection/refresh"),
        ] {
            let response = await router.respond(method: method, uri: uri, caller: APICaller(uid: 0))
            #expect(response.status == 503, "\(uri)")
            #expect(response.stream == nil, "\(uri)")
            #expect(response.headers["X-Overlayd-Version"] == "9.9.9")
            let error = try decode(APIErrorResponse.self, response)
            #expect(error.error.code == .unavailable, "\(uri)")
            #expect(error.error.message.hasPrefix("\(uri) is not available"), "\(uri)")
        }
        // The membership routes still answer.
        #expect(await router.respond(method: "GET", uri: "/v1/peers").status == 200)
    }

    @Test func permissionIsCheckedBeforeAvailability() async throws {
        let router = APIRouter(provider: MinimalProvider(), version: "9.9.9", writePolicy: APIWritePolicy(daemonUID: 4242))
        let response = await router.respond(method: "POST", uri: "/v1/selection/refresh", caller: APICaller(uid: 1000))
        #expect(response.status == 403)
    }

    @Test func resolveNamesTheNewEndpoints() throws {
        #expect(try APIRouter.resolve(method: "GET", uri: "/v1/gateways").get().path == "/v1/gateways")
        #expect(try APIRouter.resolve(method: "GET", uri: "/v1/events").get().path == "/v1/events")
        #expect(try APIRouter.resolve(method: "POST", uri: "/v1/selection/refresh").get().route.access == .write)
        #expect(try APIRouter.resolve(method: "GET", uri: "/v1/selection").get().route.access == .read)
        #expect(try APIRouter.resolve(method: "GET", uri: "/v1/observations?observer=AB&gateway=g").get().path == "/v1/observations")
        #expect(try ObservationFilter.parse(gateway: ["g"], observer: ["AB"]) == ObservationFilter(gateway: "g", observerPrefix: "ab"))
        #expect(APIRouter.routes.filter { $0.access == .write }.map(\.path) == [
            "/v1/keys/add", "/v1/keys/retire", "/v1/keys/revoke", "/v1/keys/roll", "/v1/reload", "/v1/selection/refresh",
        ])
    }

    @Test func eventsStreamOneCompactJSONLinePerEventInOrder() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/events")
        #expect(response.status == 200)
        #expect(response.contentType == "application/x-ndjson")
        #expect(response.headers["X-Overlayd-Version"] == "9.9.9")
        #expect(response.body.isEmpty)
        let stream = try #require(response.stream)
        #expect(await provider.hub.wait { $0.subscriberCount == 1 })

        let records: [EventRecord] = [
            .memberChange("gw-raval", "alive", "suspect", at: 1_714_557_600_123),
            .selection(SelectionEvent(from: "gw-raval", to: "10.1.2.3:3128", reason: "current_failed", explanation: "Switched.\nReally."), atMs: 1_714_557_601_000),
            .quorum(QuorumEvent(hasQuorum: false, reachable: 2, viewSize: 5), atMs: 1_714_557_602_000),
        ]
        for record in records { provider.hub.publish(record) }

        var lines: [Data] = []
        for await chunk in stream.chunks {
            lines.append(chunk)
            if lines.count == records.count { break }
        }
        for (line, record) in zip(lines, records) {
            #expect(line.last == 0x0A)
            #expect(line.dropLast().firstIndex(of: 0x0A) == nil)  // one line, whatever the content
            #expect(try APISchema.makeDecoder().decode(EventRecord.self, from: line) == record)
        }
        let first = String(decoding: lines[0], as: UTF8.self)
        #expect(first.hasPrefix(#"{"at_ms":1714557600123,"member":{"from":"alive","#))
        #expect(first.contains(#""quorum":null,"schema":1,"selection":null,"type":"member","view":null}"#))
    }

    @Test func eventSubscriptionEndsWhenTheConsumerStops() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/events")
        let stream = try #require(response.stream)
        #expect(await provider.hub.wait { $0.subscriberCount == 1 })
        let consumer = Task {
            for await _ in stream.chunks {}
        }
        consumer.cancel()
        _ = await consumer.value
        #expect(await provider.hub.wait { $0.subscriberCount == 0 })
    }

    @Test func eventStreamFinishesWhenTheProviderFinishes() async throws {
        let response = await router.respond(method: "GET", uri: "/v1/events")
        let stream = try #require(response.stream)
        #expect(await provider.hub.wait { $0.subscriberCount == 1 })
        provider.hub.publish(.view(ViewEvent(epoch: 4, members: ["aa", "bb"]), atMs: 1))
        provider.hub.finishAll()
        var count = 0
        for await _ in stream.chunks { count += 1 }
        #expect(count == 1)
    }
}
