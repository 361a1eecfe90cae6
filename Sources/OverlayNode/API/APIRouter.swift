import Foundation
import OverlayAPI

/// The local API's routing and answers, without any networking.
///
/// ``APIServer`` hands it a method and a request target and writes back the ``APIResponse``
/// it returns; tests call it directly. All decisions about paths, methods, query parameters,
/// filtering, status codes and error bodies live here, in one sorted route table (``routes``).
public struct APIRouter: Sendable {
    /// The route table, sorted by path. Every route answers `GET` only in schema 1.
    public static let routes: [APIRoute] = [
        APIRoute(
            path: "/metrics", method: "GET", queryParameters: [],
            summary: "the node's metrics in the Prometheus text format"
        ) { _ in .metrics },
        APIRoute(
            path: "/v1/peers", method: "GET", queryParameters: ["name", "state"],
            summary: "every member of the view, this node included, optionally filtered"
        ) { query throws(APIRejection) in
            .peers(try PeerFilter.parse(state: query["state"] ?? [], name: query["name"] ?? []))
        },
        APIRoute(
            path: "/v1/status", method: "GET", queryParameters: [],
            summary: "this node's identity and a summary of its membership view"
        ) { _ in .status },
    ]

    /// The daemon's version string, sent in every body and in the ``APISchema/versionHeader`` header.
    public let version: String
    private let provider: any LocalAPIProvider

    /// Creates a router.
    ///
    /// - Parameters:
    ///   - provider: where the answers come from.
    ///   - version: the daemon's version string.
    public init(provider: any LocalAPIProvider, version: String) {
        self.provider = provider
        self.version = version
    }

    /// Works out what a request asks for, without answering it.
    ///
    /// - Parameters:
    ///   - method: the HTTP method (`GET`).
    ///   - uri: the request target, for example `/v1/peers?state=alive,suspect&name=gw-*`.
    /// - Returns: the endpoint and its parsed parameters, or the rejection to send: 404 for an
    ///   unknown path, 405 for a known path with another method, 400 for a malformed query, an
    ///   unknown parameter or a bad filter value.
    public static func resolve(method: String, uri: String) -> Result<APIEndpoint, APIRejection> {
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
            return .success(try route.endpoint(query))
        } catch {
            return .failure(error)
        }
    }

    /// Answers one request.
    ///
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - uri: the request target (path and query).
    /// - Returns: the response to write: JSON with `Content-Type: application/json` for every
    ///   route but `/metrics`, and the ``APISchema/versionHeader`` header on every response.
    public func respond(method: String, uri: String) async -> APIResponse {
        switch Self.resolve(method: method, uri: uri) {
        case .failure(let rejection):
            return errorResponse(rejection)
        case .success(.status):
            var status = await provider.status()
            status.schema = APISchema.version
            status.version = version
            return json(status)
        case .success(.peers(let filter)):
            let peers = await provider.peers()
                .filter(filter.matches)
                .sorted { ($0.isLocal ? 0 : 1, $0.name, $0.id) < ($1.isLocal ? 0 : 1, $1.name, $1.id) }
            return json(PeersResponse(version: version, peers: peers))
        case .success(.metrics):
            let text = await provider.metricsText()
            return APIResponse(status: 200, headers: headers(contentType: APISchema.metricsContentType), body: Data(text.utf8))
        }
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
    /// What it returns, for the 404 message and the docs.
    public let summary: String
    /// Builds the endpoint from the query parameters (each name with all its values).
    let endpoint: @Sendable ([String: [String]]) throws(APIRejection) -> APIEndpoint

    init(
        path: String, method: String, queryParameters: [String], summary: String,
        endpoint: @escaping @Sendable ([String: [String]]) throws(APIRejection) -> APIEndpoint
    ) {
        self.path = path
        self.method = method
        self.queryParameters = queryParameters
        self.summary = summary
        self.endpoint = endpoint
    }
}

/// What a request resolved to, with its parameters parsed.
public enum APIEndpoint: Sendable, Equatable {
    /// `GET /metrics`.
    case metrics
    /// `GET /v1/peers` with its filters.
    case peers(PeerFilter)
    /// `GET /v1/status`.
    case status
}

/// A response of the local API, ready to be written to a connection.
///
/// The server adds only the framing headers (`Content-Length`, `Connection`).
public struct APIResponse: Sendable, Equatable {
    /// The HTTP status code.
    public var status: Int
    /// The headers, including `Content-Type` and ``APISchema/versionHeader``.
    public var headers: [String: String]
    /// The body bytes.
    public var body: Data

    /// Creates a response.
    ///
    /// - Parameters:
    ///   - status: the HTTP status code.
    ///   - headers: the headers.
    ///   - body: the body bytes.
    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The `Content-Type` header.
    public var contentType: String? { headers["Content-Type"] }
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
