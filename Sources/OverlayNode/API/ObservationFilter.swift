import OverlayAPI

/// The filters of `GET /v1/observations`, parsed and checked.
///
/// `gateway=ID` keeps the observations of one gateway (its exact ID, as `/v1/gateways` lists it);
/// `observer=PREFIX` keeps those whose observer's hex ID starts with `PREFIX` (case-insensitive,
/// so the 12-digit short IDs of the tables work). An absent filter keeps everything.
public struct ObservationFilter: Sendable, Equatable {
    /// The gateway to keep, or `nil` to keep every gateway.
    public var gateway: String?
    /// The lowercase hex prefix of the observers to keep, or `nil` to keep every observer.
    public var observerPrefix: String?

    /// Creates a filter.
    ///
    /// - Parameters:
    ///   - gateway: the exact gateway ID, or `nil` for all.
    ///   - observerPrefix: a lowercase hex prefix of observer IDs, or `nil` for all.
    public init(gateway: String? = nil, observerPrefix: String? = nil) {
        self.gateway = gateway
        self.observerPrefix = observerPrefix
    }

    /// A filter that keeps every observation.
    public static let all = ObservationFilter()

    /// Parses the filter's query parameters.
    ///
    /// - Parameters:
    ///   - gateway: every value given for `gateway`.
    ///   - observer: every value given for `observer`.
    /// - Returns: the filter.
    /// - Throws: ``APIRejection`` (400 `bad_request`) for a repeated or empty parameter, or an
    ///   observer prefix that is not hexadecimal or is longer than an ID.
    public static func parse(gateway: [String], observer: [String]) throws(APIRejection) -> ObservationFilter {
        var filter = ObservationFilter()
        if gateway.count > 1 {
            throw .badRequest("the gateway filter was given \(gateway.count) times; give one gateway ID")
        }
        if let value = gateway.first {
            guard !value.isEmpty else {
                throw .badRequest("the gateway filter is empty; give a gateway ID as GET /v1/gateways lists it")
            }
            filter.gateway = value
        }
        if observer.count > 1 {
            throw .badRequest("the observer filter was given \(observer.count) times; give one ID prefix")
        }
        if let value = observer.first {
            let prefix = value.lowercased()
            guard !prefix.isEmpty else {
                throw .badRequest("the observer filter is empty; give the first hex digits of a node ID")
            }
            guard prefix.count <= 64, prefix.allSatisfy(\.isHexDigit) else {
                throw .badRequest("the observer filter '\(value)' is not a node ID prefix; expected up to 64 hex digits")
            }
            filter.observerPrefix = prefix
        }
        return filter
    }

    /// Whether an observation passes the filter.
    ///
    /// - Parameter observation: the observation's row.
    /// - Returns: `true` when it matches every filter given.
    public func matches(_ observation: ObservationInfo) -> Bool {
        if let gateway, observation.gateway != gateway { return false }
        if let observerPrefix, !observation.observer.lowercased().hasPrefix(observerPrefix) { return false }
        return true
    }
}
