import Foundation
import NIOCore
import OverlayAPI

/// The local API's routing and answers, without any networking.
///
/// ``APIServer`` hands it a method, a request target and the caller's credentials and writes back
/// the ``APIResponse`` it returns; tests call it directly. All decisions about paths, methods,
/// permissions, query parameters, filtering, status codes and error bodies live here, in one
/// sorted route table (``routes``).
public struct APIRouter: Sendable {
    /// The route table, sorted by path: each route's path, method, query parameters, access and
    /// summary, and its handler. Nothing else names a path: the 404 message, the OpenAPI test and
    /// the docs all read this table.
    public static let routes: [APIRoute] = [
        APIRoute(
            path: "/metrics", method: "GET", queryParameters: [],
            summary: "the node's metrics in the Prometheus text format"
        ) { _ throws(APIRejection) in { router in await router.metrics() } },
        APIRoute(
            path: "/v1/events", method: "GET", queryParameters: [],
            summary: "membership, selection, view and quorum changes as they happen (NDJSON stream)"
        ) { _ throws(APIRejection) in { router in await router.gatewayRoute("/v1/events") { try await router.events($0) } } },
        APIRoute(
            path: "/v1/gateways", method: "GET", queryParameters: [],
            summary: "every known gateway with the cloud's estimate of it"
        ) { _ throws(APIRejection) in { router in await router.gatewayRoute("/v1/gateways") { await router.gateways($0) } } },
        APIRoute(
            path: "/v1/keys", method: "GET", queryParameters: [],
            summary: "the keys this node admits (keyring file and successors): validity and state"
        ) { _ throws(APIRejection) in { router in await router.keys(nil) } },
        APIRoute(
            path: "/v1/keys/add", method: "POST", queryParameters: ["key", "label", "from", "until", "role"], access: .write,
            summary: "list a key in this node's keyring file (or replace its line) and reload it (write)"
        ) { query throws(APIRejection) in
            let entry = try KeyQuery.entry(query)
            return { router in await router.keys(.add(entry)) }
        },
        APIRoute(
            path: "/v1/keys/retire", method: "POST", queryParameters: ["key"], access: .write,
            summary: "end a listed key's validity on this node at once (write)"
        ) { query throws(APIRejection) in
            let key = try KeyQuery.key(query)
            return { router in await router.keys(.retire(key)) }
        },
        APIRoute(
            path: "/v1/keys/revoke", method: "POST", queryParameters: ["key"], access: .write,
            summary: "revoke a key cloud-wide, signed by this node's key (itself or an operator key) (write)"
        ) { query throws(APIRejection) in
            let key = try KeyQuery.key(query)
            return { router in await router.keys(.revoke(key)) }
        },
        APIRoute(
            path: "/v1/keys/roll", method: "POST", queryParameters: ["overlap_days"], access: .write,
            summary: "roll this node's key: a new key announced under the old one, both admitted for the overlap (write)"
        ) { query throws(APIRejection) in
            let overlap = try KeyQuery.overlap(query)
            return { router in await router.keys(.roll(overlap: overlap)) }
        },
        APIRoute(
            path: "/v1/membership", method: "GET", queryParameters: [],
            summary: "the quorum view: epoch, members, quorum and pending proposals"
        ) { _ throws(APIRejection) in { router in await router.membership() } },
        APIRoute(
            path: "/v1/observations", method: "GET", queryParameters: ["gateway", "observer"],
            summary: "the fresh gateway measurements this node holds, optionally filtered"
        ) { query throws(APIRejection) in
            let filter = try ObservationFilter.parse(gateway: query["gateway"] ?? [], observer: query["observer"] ?? [])
            return { router in await router.gatewayRoute("/v1/observations") { await router.observations($0, filter) } }
        },
        APIRoute(
            path: "/v1/peers", method: "GET", queryParameters: ["name", "state"],
            summary: "every member of the view, this node included, optionally filtered"
        ) { query throws(APIRejection) in
            let filter = try PeerFilter.parse(state: query["state"] ?? [], name: query["name"] ?? [])
            return { router in await router.peers(filter) }
        },
        APIRoute(
            path: "/v1/reload", method: "POST", queryParameters: [], access: .write,
            summary: "re-read the config file and the keyring; an invalid config is refused and the old one kept (write)"
        ) { _ throws(APIRejection) in { router in await router.reload() } },
        APIRoute(
            path: "/v1/selection", method: "GET", queryParameters: [],
            summary: "the gateway this node uses, why, and the last round's candidates"
        ) { _ throws(APIRejection) in { router in await router.gatewayRoute("/v1/selection") { await router.selection($0) } } },
        APIRoute(
            path: "/v1/selection/refresh", method: "POST", queryParameters: [], access: .write,
            summary: "start a selection round now (write)"
        ) { _ throws(APIRejection) in { router in await router.gatewayRoute("/v1/selection/refresh") { await router.refresh($0) } } },
        APIRoute(
            path: "/v1/status", method: "GET", queryParameters: [],
            summary: "this node's identity and a summary of its membership view"
        ) { _ throws(APIRejection) in { router in await router.status() } },
    ]

    /// The daemon's version string, sent in every body and in the ``APISchema/versionHeader`` header.
    public let version: String
    /// Who may call write routes.
    public let writePolicy: APIWritePolicy
    /// The only paths this router answers, or `nil` for every route (the metrics-only TCP
    /// listener answers `/metrics` alone).
    public let only: Set<String>?
    private let provider: any LocalAPIProvider

    /// Creates a router.
    ///
    /// - Parameters:
    ///   - provider: where the answers come from; the gateway routes need it to be a
    ///     ``GatewayAPIProvider`` too, and answer `503 unavailable` otherwise.
    ///   - version: the daemon's version string.
    ///   - writePolicy: who may call write routes; default root and the daemon's own user.
    ///   - only: the only paths to answer (others are 404), or `nil` for all.
    public init(
        provider: any LocalAPIProvider, version: String, writePolicy: APIWritePolicy = APIWritePolicy(), only: Set<String>? = nil
    ) {
        self.provider = provider
        self.only = only
        self.version = version
        self.writePolicy = writePolicy
    }

    /// Works out what a request asks for, without answering it.
    ///
    /// - Parameters:
    ///   - method: the HTTP method (`GET`, `POST`).
    ///   - uri: the request target, for example `/v1/peers?state=alive,suspect&name=gw-*`.
    /// - Returns: the route with its parameters parsed, or the rejection to send: 404 for an
    ///   unknown path, 405 for a known path with another method, 400 for a malformed query, an
    ///   unknown parameter or a bad filter value. Permissions are checked by
    ///   ``respond(method:uri:caller:)``, which knows the caller.
    public static func resolve(method: String, uri: String) -> Result<APIRequest, APIRejection> {
        do throws(APIRejection) {
            let target = try APIRequestTarget(parsing: uri)
            guard let route = routes.first(where: { $0.path == target.path }) else {
                throw APIRejection.notFound(path: target.path)
            }
            guard method == route.method else {
                throw APIRejection.methodNotAllowed(method: method, path: route.path, allowed: route.method)
            }
            var query: [String: [String]] = [:]
            for (key, value) in target.query {
                guard route.queryParameters.contains(key) else {
                    throw APIRejection.unknownParameter(key, route: route)
                }
                query[key, default: []].append(value)
            }
            return .success(APIRequest(route: route, answer: try route.prepare(query)))
        } catch {
            return .failure(error)
        }
    }

    /// Answers one request.
    ///
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - uri: the request target (path and query).
    ///   - caller: who sent it (the socket's peer credentials); an ``APICaller/unidentified``
    ///     caller may read but not write.
    /// - Returns: the response to write: JSON with `Content-Type: application/json` for every
    ///   route but `/metrics` and `/v1/events` (an ``APIResponse/stream`` of NDJSON lines), and
    ///   the ``APISchema/versionHeader`` header on every response.
    public func respond(method: String, uri: String, caller: APICaller = .unidentified) async -> APIResponse {
        switch Self.resolve(method: method, uri: uri) {
        case .failure(let rejection):
            return errorResponse(rejection)
        case .success(let request):
            if let only, !only.contains(request.route.path) {
                return errorResponse(APIRejection(
                    status: 404, code: .notFound,
                    message: "no route for \(request.route.path) here; this listener serves \(only.sorted().joined(separator: ", ")), the API is on the Unix socket"))
            }
            if request.route.access == .write, !writePolicy.allowsWrite(by: caller) {
                return errorResponse(.forbidden(caller: caller, path: request.route.path))
            }
            return await request.answer(self)
        }
    }

    // MARK: Handlers

    private func status() async -> APIResponse {
        var status = await provider.status()
        status.schema = APISchema.version
        status.version = version
        return json(status)
    }

    private func peers(_ filter: PeerFilter) async -> APIResponse {
        let peers = await provider.peers()
            .filter(filter.matches)
            .sorted { ($0.isLocal ? 0 : 1, $0.name, $0.id) < ($1.isLocal ? 0 : 1, $1.name, $1.id) }
        return json(PeersResponse(version: version, peers: peers))
    }

    private func metrics() async -> APIResponse {
        let text = await provider.metricsText()
        return APIResponse(status: 200, headers: headers(contentType: APISchema.metricsContentType), body: Data(text.utf8))
    }

    private func membership() async -> APIResponse {
        guard let membershipProvider = provider as? any MembershipAPIProvider else {
            return errorResponse(.unavailable(path: "/v1/membership"))
        }
        var membership = await membershipProvider.membershipView()
        membership.schema = APISchema.version
        membership.version = version
        return json(membership)
    }

    private func reload() async -> APIResponse {
        guard let reloadProvider = provider as? any ReloadAPIProvider else {
            return errorResponse(.unavailable(path: "/v1/reload"))
        }
        var outcome = await reloadProvider.reload()
        guard outcome.reloaded else {
            return errorResponse(APIRejection(status: 422, code: .invalidConfig, message: outcome.message))
        }
        outcome.schema = APISchema.version
        outcome.version = version
        return json(outcome)
    }

    /// Runs a handler that needs a ``GatewayAPIProvider``; `503 unavailable` without one.
    private func keys(_ change: KeyChange?) async -> APIResponse {
        guard let keysProvider = provider as? any KeysAPIProvider else {
            return errorResponse(.unavailable(path: "/v1/keys"))
        }
        var answer: KeysResponse
        if let change {
            switch await keysProvider.changeKeys(change) {
            case .success(let table): answer = table
            case .failure(let refusal): return errorResponse(APIRejection(status: 422, code: .keyRefused, message: refusal.description))
            }
        } else {
            answer = await keysProvider.keys()
        }
        answer.schema = APISchema.version
        answer.version = version
        return json(answer)
    }

    private func gatewayRoute(
        _ path: String, _ body: (any GatewayAPIProvider) async throws -> APIResponse
    ) async -> APIResponse {
        guard let gatewayProvider = provider as? any GatewayAPIProvider else {
            return errorResponse(.unavailable(path: path))
        }
        do {
            return try await body(gatewayProvider)
        } catch {
            return errorResponse(APIRejection(status: 500, code: .internal, message: "\(path) failed: \(error)"))
        }
    }

    private func gateways(_ provider: any GatewayAPIProvider) async -> APIResponse {
        let gateways = await provider.gateways().sorted { ($0.id, $0.proxy) < ($1.id, $1.proxy) }
        return json(GatewaysResponse(version: version, gateways: gateways))
    }

    private func observations(_ provider: any GatewayAPIProvider, _ filter: ObservationFilter) async -> APIResponse {
        let observations = await provider.observations()
            .filter(filter.matches)
            .sorted { ($0.gateway, $0.observer, $0.sequence) < ($1.gateway, $1.observer, $1.sequence) }
        return json(ObservationsResponse(version: version, observations: observations))
    }

    private func selection(_ provider: any GatewayAPIProvider) async -> APIResponse {
        var selection = await provider.selection()
        selection.schema = APISchema.version
        selection.version = version
        return json(selection)
    }

    private func refresh(_ provider: any GatewayAPIProvider) async -> APIResponse {
        var refresh = await provider.refreshSelection()
        refresh.schema = APISchema.version
        refresh.version = version
        return json(refresh, status: 202)
    }

    private func events(_ provider: any GatewayAPIProvider) async throws -> APIResponse {
        let lines = Self.lines(of: await provider.events())
        return APIResponse(
            status: 200, headers: headers(contentType: APISchema.eventStreamContentType), body: Data(),
            stream: APIBodyStream(lines))
    }

    /// Turns a stream of events into the lines of the NDJSON stream: compact JSON with sorted
    /// keys, the router's schema version, and a final `\n` each.
    ///
    /// Cancelling the iteration of the returned stream (the client went away, the server stopped)
    /// cancels the iteration of `records`, which ends the provider's subscription.
    /// - Parameter records: the provider's events.
    /// - Returns: one element per record, in order.
    static func lines(of records: AsyncStream<EventRecord>) -> AsyncStream<Data> {
        let (lines, continuation) = AsyncStream<Data>.makeStream(bufferingPolicy: .bufferingNewest(APIBodyStream.bufferLimit))
        let task = Task {
            let encoder = APISchema.makeLineEncoder()
            for await var record in records {
                record.schema = APISchema.version
                guard var line = try? encoder.encode(record) else { continue }
                line.append(0x0A)
                continuation.yield(line)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return lines
    }

    /// The JSON error response for a rejection.
    ///
    /// - Parameter rejection: the status, code and message.
    /// - Returns: an ``APIErrorResponse`` body with the rejection's status (and `Allow` for 405).
    public func errorResponse(_ rejection: APIRejection) -> APIResponse {
        let body = APIErrorResponse(version: version, error: APIErrorBody(code: rejection.code, message: rejection.message))
        var response = json(body, status: rejection.status)
        if let allow = rejection.allow { response.headers["Allow"] = allow }
        return response
    }

    private func json(_ value: some Encodable, status: Int = 200) -> APIResponse {
        do {
            var body = try APISchema.makeEncoder().encode(value)
            body.append(0x0A)  // a final newline, so `curl` leaves the prompt on its own line
            return APIResponse(status: status, headers: headers(contentType: APISchema.jsonContentType), body: body)
        } catch {
            // Our own types always encode; this is the last resort if one ever does not.
            let message = "cannot encode the response: \(error)"
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            let text = #"{"error":{"code":"internal","message":"\#(message)"},"schema":\#(APISchema.version),"version":"\#(version)"}"# + "\n"
            return APIResponse(status: 500, headers: headers(contentType: APISchema.jsonContentType), body: Data(text.utf8))
        }
    }

    private func headers(contentType: String) -> [String: String] {
        ["Content-Type": contentType, APISchema.versionHeader: version]
    }
}

/// One entry of ``APIRouter/routes``.
public struct APIRoute: Sendable {
    /// The path, for example `/v1/peers`.
    public let path: String
    /// The one HTTP method it answers.
    public let method: String
    /// The query parameters it accepts; any other is a 400.
    public let queryParameters: [String]
    /// Whether it only reads or also changes the node (and so needs ``APIWritePolicy``'s consent).
    public let access: APIAccess
    /// What it returns, for the 404 message and the docs.
    public let summary: String
    /// Checks and parses the query parameters (each name with all its values), and returns the
    /// handler that answers; a bad parameter is thrown as a 400 before anything is answered.
    let prepare: @Sendable ([String: [String]]) throws(APIRejection) -> APIHandler

    init(
        path: String, method: String, queryParameters: [String], access: APIAccess = .read, summary: String,
        prepare: @escaping @Sendable ([String: [String]]) throws(APIRejection) -> APIHandler
    ) {
        self.path = path
        self.method = method
        self.queryParameters = queryParameters
        self.access = access
        self.summary = summary
        self.prepare = prepare
    }
}

/// What answers a request whose parameters were parsed.
public typealias APIHandler = @Sendable (APIRouter) async -> APIResponse

/// A request resolved to its route, with the handler that answers it.
public struct APIRequest: Sendable {
    /// The route.
    public let route: APIRoute
    /// Answers the request.
    let answer: APIHandler

    /// The route's path.
    public var path: String { route.path }
}

/// What a route may do to the node.
public enum APIAccess: Sendable, Equatable {
    /// It only reads: whoever can connect to the socket may call it.
    case read
    /// It changes the node: only callers ``APIWritePolicy`` allows (403 `forbidden` otherwise).
    case write
}

/// A response of the local API, ready to be written to a connection.
///
/// Either a full body (``body``; the server adds `Content-Length`) or a stream (``stream`` set,
/// ``body`` empty; the server sends `Transfer-Encoding: chunked`, one chunk per element, flushed
/// as each arrives, until the stream finishes, the client goes away or the server stops). The
/// server adds only the framing headers (`Content-Length` or `Transfer-Encoding`, `Connection`).
public struct APIResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The headers, including `Content-Type` and ``APISchema/versionHeader``.
    public var headers: [String: String]
    /// The body bytes of a full response; empty for a stream.
    public var body: Data
    /// The body of a streamed response, or `nil` for a full one.
    public var stream: APIBodyStream?

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: the HTTP status code.
    ///   - headers: the headers.
    ///   - body: the body bytes (empty for a stream).
    ///   - stream: the body as a stream, or `nil` for a full response.
    public init(status: Int, headers: [String: String], body: Data, stream: APIBodyStream? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }

    /// The `Content-Type` header.
    public var contentType: String? { headers["Content-Type"] }
}

/// The body of a streamed response: chunks written as they come.
///
/// Two values are equal when they wrap the same stream. Iterate ``chunks`` once: an
/// `AsyncStream` has a single consumer.
public struct APIBodyStream: Sendable, Equatable {
    /// How many chunks wait for a slow client before the oldest are dropped.
    public static let bufferLimit = 1024

    /// The chunks, in order; the response ends when the stream finishes.
    public let chunks: AsyncStream<Data>
    private let identity: Identity

    private final class Identity: Sendable {}

    /// Wraps a stream of chunks.
    ///
    /// - Parameter chunks: the body, one chunk per element.
    public init(_ chunks: AsyncStream<Data>) {
        self.chunks = chunks
        self.identity = Identity()
    }

    /// Whether both wrap the same stream.
    public static func == (lhs: APIBodyStream, rhs: APIBodyStream) -> Bool {
        lhs.identity === rhs.identity
    }
}

/// Why a request is refused: an HTTP status, a stable code and one sentence.
public struct APIRejection: Error, Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The stable error code.
    public var code: APIErrorCode
    /// One sentence for the operator.
    public var message: String
    /// The `Allow` header of a 405.
    public var allow: String?

    /// Creates a rejection.
    ///
    /// - Parameters:
    ///   - status: the HTTP status code.
    ///   - code: the stable error code.
    ///   - message: one sentence for the operator.
    ///   - allow: the methods the route accepts, for a 405.
    public init(status: Int, code: APIErrorCode, message: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.allow = allow
    }

    /// A 400 `bad_request`.
    ///
    /// - Parameter message: what is wrong with the request, naming the offending value.
    /// - Returns: the rejection.
    public static func badRequest(_ message: String) -> APIRejection {
        APIRejection(status: 400, code: .badRequest, message: message)
    }

    static func notFound(path: String) -> APIRejection {
        let known = APIRouter.routes.map(\.path).joined(separator: ", ")
        return APIRejection(status: 404, code: .notFound, message: "no route for \(path); the routes are \(known)")
    }

    static func methodNotAllowed(method: String, path: String, allowed: String) -> APIRejection {
        APIRejection(
            status: 405, code: .methodNotAllowed,
            message: "\(path) does not accept \(method); use \(allowed)", allow: allowed)
    }

    static func forbidden(caller: APICaller, path: String) -> APIRejection {
        let who = caller.uid.map { "user \($0)" } ?? "a caller whose credentials cannot be read"
        return APIRejection(
            status: 403, code: .forbidden,
            message: "\(path) changes the node and \(who) may not write; run it as root or as the user overlayd runs as")
    }

    static func requestTooLarge(limit: Int) -> APIRejection {
        APIRejection(status: 413, code: .requestTooLarge, message: "the request body is larger than the \(limit) bytes the API accepts; send less")
    }

    static func headersTooLarge(limit: Int) -> APIRejection {
        APIRejection(
            status: 431, code: .headersTooLarge,
            message: "the request line and headers are larger than the \(limit) bytes the API accepts; send fewer or shorter headers")
    }

    static func requestTimeout(_ timeout: TimeAmount) -> APIRejection {
        APIRejection(
            status: 408, code: .requestTimeout,
            message: "the request took longer than \(timeout.nanoseconds / 1_000_000) ms to arrive; send it whole, at once")
    }

    static func tooManyConnections(limit: Int) -> APIRejection {
        APIRejection(
            status: 503, code: .tooManyConnections,
            message: "the API already serves \(limit) connections, its limit; close idle clients or retry later")
    }

    static func unavailable(path: String) -> APIRejection {
        APIRejection(
            status: 503, code: .unavailable,
            message: "\(path) is not available in this build of overlayd; upgrade it")
    }

    static func unknownParameter(_ name: String, route: APIRoute) -> APIRejection {
        let accepted = route.queryParameters.isEmpty
            ? "it takes no parameters" : "it accepts \(route.queryParameters.joined(separator: ", "))"
        return .badRequest("unknown query parameter '\(name)' for \(route.path); \(accepted)")
    }
}

/// A request target split into its path and its decoded query parameters.
struct APIRequestTarget: Equatable {
    /// The path, without the query.
    var path: String
    /// The query parameters in order, percent-decoded (`+` reads as a space).
    var query: [(String, String)]

    /// Splits and decodes a request target; accepts the absolute form (`http://localhost/v1/peers`).
    init(parsing uri: String) throws(APIRejection) {
        var target = Substring(uri)
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            target = target.dropFirst(scheme.count)
            target = target.firstIndex(of: "/").map { target[$0...] } ?? "/"
        }
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts[0])
        query = []
        guard parts.count == 2 else { return }
        for pair in parts[1].split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.percentDecoded(keyValue[0]),
                  let value = Self.percentDecoded(keyValue.count == 2 ? keyValue[1] : "")
            else {
                throw .badRequest("the query '\(parts[1])' is not valid percent-encoded UTF-8")
            }
            query.append((key, value))
        }
    }

    static func == (lhs: APIRequestTarget, rhs: APIRequestTarget) -> Bool {
        lhs.path == rhs.path && lhs.query.elementsEqual(rhs.query, by: { $0 == $1 })
    }

    /// Decodes `%XX` escapes and `+`; `nil` for a broken escape or invalid UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
