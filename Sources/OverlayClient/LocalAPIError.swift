import Foundation
import OverlayAPI

/// Why a request to the local API failed.
///
/// Its ``description`` is one sentence that says what to do, ready to print as it is. Like
/// swift-nio's errors it wraps a private enum, so new cases can be added without breaking
/// callers; match on ``isDaemonUnreachable``, ``httpStatus`` and ``code`` instead.
public struct LocalAPIError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Equatable, Sendable {
        case noSocket
        case refused
        case permissionDenied(group: String?)
        case pathTooLong
        case timedOut(seconds: Double)
        case connectionFailed(errno: Int32)
        case malformedResponse(detail: String)
        case api(status: Int, code: APIErrorCode?, message: String)
    }

    private let kind: Kind
    /// The socket the request went to.
    public let socketPath: String

    private init(_ kind: Kind, socketPath: String) {
        self.kind = kind
        self.socketPath = socketPath
    }

    /// No socket file exists at the path: the daemon is not running, or the path is wrong.
    ///
    /// - Parameter path: the socket path tried.
    /// - Returns: the error.
    public static func noSocket(at path: String) -> LocalAPIError { LocalAPIError(.noSocket, socketPath: path) }

    /// The socket file exists but nothing accepts connections on it (a stale file after a crash).
    ///
    /// - Parameter path: the socket path tried.
    /// - Returns: the error.
    public static func refused(at path: String) -> LocalAPIError { LocalAPIError(.refused, socketPath: path) }

    /// The socket's mode or its directory's does not let this user connect.
    ///
    /// - Parameters:
    ///   - path: the socket path tried.
    ///   - group: the socket's group, when known, to name in the message.
    /// - Returns: the error.
    public static func permissionDenied(at path: String, group: String? = nil) -> LocalAPIError {
        LocalAPIError(.permissionDenied(group: group), socketPath: path)
    }

    /// The path does not fit in a Unix socket address (107 bytes on Linux).
    ///
    /// - Parameter path: the socket path given.
    /// - Returns: the error.
    public static func pathTooLong(_ path: String) -> LocalAPIError { LocalAPIError(.pathTooLong, socketPath: path) }

    /// The daemon accepted the connection but did not answer in time.
    ///
    /// - Parameters:
    ///   - path: the socket path.
    ///   - seconds: the timeout that passed.
    /// - Returns: the error.
    public static func timedOut(at path: String, after seconds: Double) -> LocalAPIError {
        LocalAPIError(.timedOut(seconds: seconds), socketPath: path)
    }

    /// Connecting, writing or reading failed for another reason.
    ///
    /// - Parameters:
    ///   - path: the socket path.
    ///   - errno: the system error number.
    /// - Returns: the error.
    public static func connectionFailed(at path: String, errno: Int32) -> LocalAPIError {
        LocalAPIError(.connectionFailed(errno: errno), socketPath: path)
    }

    /// The daemon answered something that is not the HTTP or JSON this client expects.
    ///
    /// - Parameters:
    ///   - path: the socket path.
    ///   - detail: what was wrong, in a few words.
    /// - Returns: the error.
    public static func malformedResponse(at path: String, _ detail: String) -> LocalAPIError {
        LocalAPIError(.malformedResponse(detail: detail), socketPath: path)
    }

    /// The daemon refused the request with an HTTP error status.
    ///
    /// - Parameters:
    ///   - path: the socket path.
    ///   - status: the HTTP status code.
    ///   - code: the API's stable error code, when the body carried one.
    ///   - message: the API's message, or the start of the body.
    /// - Returns: the error.
    public static func api(at path: String, status: Int, code: APIErrorCode?, message: String) -> LocalAPIError {
        LocalAPIError(.api(status: status, code: code, message: message), socketPath: path)
    }

    /// Whether the daemon could not be reached at all (not running, no permission, no answer).
    ///
    /// overlayctl exits with status 1 for these and 3 for the others (the daemon answered, but
    /// with an error or something unreadable).
    public var isDaemonUnreachable: Bool {
        switch kind {
        case .noSocket, .refused, .permissionDenied, .pathTooLong, .timedOut, .connectionFailed: true
        case .malformedResponse, .api: false
        }
    }

    /// The HTTP status of an API error; `nil` for every other kind.
    public var httpStatus: Int? {
        if case .api(let status, _, _) = kind { return status }
        return nil
    }

    /// The API's stable error code (`not_found`, `bad_request`, ...); `nil` unless the daemon sent one.
    public var code: APIErrorCode? {
        if case .api(_, let code, _) = kind { return code }
        return nil
    }

    /// One sentence for the operator that says what went wrong and what to do.
    public var description: String {
        let path = socketPath
        switch kind {
        case .noSocket:
            return "overlayd is not running (no socket at \(path)); start it with 'systemctl start overlayd' or pass --socket PATH"
        case .refused:
            return "overlayd is not running (nothing is listening on \(path)); start it with 'systemctl start overlayd' or pass --socket PATH"
        case .permissionDenied(let group):
            let who = group.map { "as root or as a member of the '\($0)' group" } ?? "as root or as the socket's owner or group"
            return "permission denied on \(path); run overlayctl \(who)"
        case .pathTooLong:
            return "the socket path \(path) is longer than a Unix socket allows (107 bytes); pass a shorter --socket PATH"
        case .timedOut(let seconds):
            return "overlayd did not answer on \(path) within \(Self.format(seconds)) s; check it with 'systemctl status overlayd'"
        case .connectionFailed(let errno):
            return "cannot talk to overlayd on \(path) (\(String(cString: strerror(errno)))); check that it is running and that --socket PATH is right"
        case .malformedResponse(let detail):
            return "overlayd on \(path) sent a response overlayctl cannot read (\(detail)); check that overlayctl and overlayd are the same version"
        case .api(let status, let code, let message):
            let tag = code.map { "\($0), HTTP \(status)" } ?? "HTTP \(status)"
            return "overlayd refused the request: \(message) (\(tag))"
        }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
