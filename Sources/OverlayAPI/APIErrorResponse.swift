/// The body of every error the local API returns, whatever the route.
///
/// ```json
/// {"schema": 1, "version": "0.1.0", "error": {"code": "not_found", "message": "..."}}
/// ```
/// Scripts match on ``APIErrorBody/code``; the message is for people and may change.
public struct APIErrorResponse: Codable, Sendable, Equatable {
    /// The schema version of this response (``APISchema/version``).
    public var schema: Int
    /// The daemon's version string.
    public var version: String
    /// What went wrong.
    public var error: APIErrorBody

    /// Creates an error response.
    ///
    /// - Parameters:
    ///   - schema: the schema version; leave the default.
    ///   - version: the daemon's version string.
    ///   - error: the code and message.
    public init(schema: Int = APISchema.version, version: String, error: APIErrorBody) {
        self.schema = schema
        self.version = version
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case schema
        case version
        case error
    }
}

/// A stable error code and a human message.
public struct APIErrorBody: Codable, Sendable, Equatable {
    /// The stable code, one of ``APIErrorCode``'s constants (new codes may be added).
    public var code: APIErrorCode
    /// One sentence for the operator; its wording may change between versions.
    public var message: String

    /// Creates an error body.
    ///
    /// - Parameters:
    ///   - code: the stable code.
    ///   - message: one sentence for the operator.
    public init(code: APIErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case code
        case message
    }
}

/// A stable, machine-readable error code of the local API.
///
/// A string in the JSON (`"not_found"`), a type in Swift so that call sites cannot misspell it.
/// Codes are only ever added; a client treats an unknown code like ``internal``.
public struct APIErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    /// The code as it appears in the JSON.
    public let rawValue: String

    /// Wraps a code string.
    ///
    /// - Parameter rawValue: the code as it appears in the JSON.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Wraps a code string.
    ///
    /// - Parameter rawValue: the code as it appears in the JSON.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// Decodes the code from a JSON string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the code as a JSON string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The code as it appears in the JSON.
    public var description: String { rawValue }

    /// No route has this path (HTTP 404).
    public static let notFound = APIErrorCode("not_found")
    /// The request is malformed, for example a filter with an unknown value (HTTP 400).
    public static let badRequest = APIErrorCode("bad_request")
    /// The route exists but not for this HTTP method (HTTP 405).
    public static let methodNotAllowed = APIErrorCode("method_not_allowed")
    /// The caller may not use this route, for example a write route over a read-only socket (HTTP 403).
    public static let forbidden = APIErrorCode("forbidden")
    /// The daemon failed to answer; the message says why (HTTP 500).
    public static let `internal` = APIErrorCode("internal")
    /// The route exists but this daemon cannot answer it now, for example a gateway route on a
    /// daemon built or started without gateway selection (HTTP 503).
    public static let unavailable = APIErrorCode("unavailable")
    /// The request's body is larger than the API accepts (HTTP 413).
    public static let requestTooLarge = APIErrorCode("request_too_large")
    /// The request line and headers are larger than the API accepts (HTTP 431).
    public static let headersTooLarge = APIErrorCode("headers_too_large")
    /// The client took too long to send its request (HTTP 408).
    public static let requestTimeout = APIErrorCode("request_timeout")
    /// The API already serves as many connections as it allows (HTTP 503).
    public static let tooManyConnections = APIErrorCode("too_many_connections")
    /// A key change (add, roll, retire, revoke) was refused; the message says why, for example
    /// a key that already rolled or a revocation this node's key may not sign (HTTP 422).
    public static let keyRefused = APIErrorCode("key_refused")
}
