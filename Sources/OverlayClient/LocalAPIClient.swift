import Foundation
import OverlayAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small blocking HTTP/1.1 client for the daemon's Unix-socket API.
///
/// One request per connection (`Connection: close`), plain system calls, no event loop: a command
/// such as `overlayctl peers` connects, asks, prints and exits in a few milliseconds. Failures are
/// ``LocalAPIError``s whose descriptions can be shown to the operator as they are.
///
/// ```swift
/// let client = LocalAPIClient(socketPath: LocalAPISocket.resolve(option: nil))
/// let alive = try client.peers(state: ["alive"]).peers
/// ```
public struct LocalAPIClient: Sendable {
    /// The socket the client connects to.
    public let socketPath: String
    /// How long one read or write may wait before the request fails with a timeout.
    public let timeout: Duration

    /// Creates a client; nothing is connected until a request is made.
    ///
    /// - Parameters:
    ///   - socketPath: the daemon's socket (see ``LocalAPISocket/resolve(option:environment:)``).
    ///   - timeout: how long one read or write may block; default 5 seconds.
    public init(socketPath: String, timeout: Duration = .seconds(5)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Sends `GET path` and returns whatever the daemon answered, error statuses included.
    ///
    /// - Parameter path: the request target, for example `/v1/peers?state=alive`.
    /// - Returns: the HTTP status code and the (de-chunked) body.
    /// - Throws: ``LocalAPIError`` when the daemon cannot be reached or the answer is not HTTP.
    public func get(_ path: String) throws(LocalAPIError) -> (status: Int, body: Data) {
        let message = try exchange(method: "GET", path: path)
        return (message.status, message.body)
    }

    /// Sends `GET path` and returns the body of a successful (2xx) answer.
    ///
    /// This is what `--json` output prints: the daemon's JSON, byte for byte.
    /// - Parameter path: the request target.
    /// - Returns: the body.
    /// - Throws: ``LocalAPIError``; an error status becomes an API error carrying the body's code
    ///   and message.
    public func fetch(_ path: String) throws(LocalAPIError) -> Data {
        try fetch(path, method: "GET")
    }

    /// Sends a request without a body and returns the body of a successful (2xx) answer.
    ///
    /// - Parameters:
    ///   - path: the request target.
    ///   - method: the HTTP method, `GET` or `POST`.
    /// - Returns: the body.
    /// - Throws: ``LocalAPIError``; an error status becomes an API error carrying the body's code
    ///   and message.
    public func fetch(_ path: String, method: String) throws(LocalAPIError) -> Data {
        let message = try exchange(method: method, path: path)
        guard (200..<300).contains(message.status) else { throw apiError(status: message.status, body: message.body) }
        return message.body
    }

    /// `GET /v1/status`, decoded.
    ///
    /// - Returns: the daemon's status.
    /// - Throws: ``LocalAPIError``.
    public func status() throws(LocalAPIError) -> StatusResponse {
        try decode(StatusResponse.self, from: fetch("/v1/status"), route: "/v1/status")
    }

    /// `GET /v1/peers`, filtered by the daemon, decoded.
    ///
    /// - Parameters:
    ///   - state: keep members in these states (`alive`, `suspect`, `failed`, `left`); empty keeps all.
    ///   - name: keep members whose name contains this text, or matches it as a glob when it has a `*`.
    /// - Returns: the daemon's answer, this node included.
    /// - Throws: ``LocalAPIError``; an unknown state is a `bad_request` API error.
    public func peers(state: [String] = [], name: String? = nil) throws(LocalAPIError) -> PeersResponse {
        try decode(PeersResponse.self, from: fetch(Self.peersPath(state: state, name: name)), route: "/v1/peers")
    }

    /// `GET /v1/gateways`, decoded.
    ///
    /// - Returns: every gateway the daemon knows, by ID.
    /// - Throws: ``LocalAPIError``; a daemon without gateway selection answers `unavailable` (503).
    public func gateways() throws(LocalAPIError) -> GatewaysResponse {
        try decode(GatewaysResponse.self, from: fetch("/v1/gateways"), route: "/v1/gateways")
    }

    /// `GET /v1/observations`, filtered by the daemon, decoded.
    ///
    /// - Parameters:
    ///   - gateway: keep the observations of this gateway ID only.
    ///   - observer: keep the observations of observers whose hex ID starts with this prefix.
    /// - Returns: the daemon's answer, by gateway and then observer.
    /// - Throws: ``LocalAPIError``; a prefix that is not hex is a `bad_request` API error.
    public func observations(gateway: String? = nil, observer: String? = nil) throws(LocalAPIError) -> ObservationsResponse {
        try decode(
            ObservationsResponse.self, from: fetch(Self.observationsPath(gateway: gateway, observer: observer)),
            route: "/v1/observations")
    }

    /// `GET /v1/selection`, decoded.
    ///
    /// - Returns: the gateway in use, why, and the last round's candidates.
    /// - Throws: ``LocalAPIError``.
    public func selection() throws(LocalAPIError) -> SelectionResponse {
        try decode(SelectionResponse.self, from: fetch("/v1/selection"), route: "/v1/selection")
    }

    /// `POST /v1/selection/refresh`: asks the daemon to start a selection round now.
    ///
    /// - Returns: whether a round was started, and the daemon's sentence about it.
    /// - Throws: ``LocalAPIError``; a caller that may not write gets a `forbidden` API error (403).
    public func refreshSelection() throws(LocalAPIError) -> RefreshResponse {
        try decode(
            RefreshResponse.self, from: fetch(Self.refreshSelectionPath, method: "POST"), route: Self.refreshSelectionPath)
    }

    /// Asks the daemon to re-read its config file and keyring (`POST /v1/reload`).
    ///
    /// - Returns: what is now in force and which changed keys need a restart.
    /// - Throws: ``LocalAPIError``; a refused reload is an API error with code `invalid_config`.
    public func reload() throws(LocalAPIError) -> ReloadResponse {
        try decode(ReloadResponse.self, from: fetch(Self.reloadPath, method: "POST"), route: Self.reloadPath)
    }

    /// `GET /v1/keys`, decoded.
    ///
    /// - Returns: the keys this node knows, with validity and state.
    /// - Throws: ``LocalAPIError``.
    public func keys() throws(LocalAPIError) -> KeysResponse {
        try decode(KeysResponse.self, from: fetch(Self.keysPath), route: Self.keysPath)
    }

    /// One key change (`POST /v1/keys/add`, `roll`, `retire` or `revoke`), decoded.
    ///
    /// - Parameter target: the request target, from ``keysChangePath(_:_:)``.
    /// - Returns: the key table after the change and the daemon's sentence about it.
    /// - Throws: ``LocalAPIError``; a refused change is an API error with code `key_refused`.
    public func changeKeys(_ target: String) throws(LocalAPIError) -> KeysResponse {
        try decode(KeysResponse.self, from: fetch(target, method: "POST"), route: target)
    }

    /// The request target of the key table.
    public static let keysPath = "/v1/keys"

    /// The request target of a key change with its parameters, percent-encoded.
    ///
    /// - Parameters:
    ///   - action: `add`, `roll`, `retire` or `revoke`.
    ///   - parameters: name and value pairs, in order (`nil` values are left out).
    /// - Returns: for example `/v1/keys/roll?overlap_days=14`.
    public static func keysChangePath(_ action: String, _ parameters: [(String, String?)]) -> String {
        let query = parameters.compactMap { name, value in value.map { name + "=" + percentEncoded($0) } }
        return keysPath + "/" + action + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// The request target of the reload route.
    public static let reloadPath = "/v1/reload"

    /// The request target of the write route that forces a reselection.
    public static let refreshSelectionPath = "/v1/selection/refresh"

    /// The request target of the event stream.
    public static let eventsPath = "/v1/events"

    /// The request target of `GET /v1/observations` with its filters, percent-encoded.
    ///
    /// - Parameters:
    ///   - gateway: the gateway ID, or `nil`.
    ///   - observer: the observer ID prefix, or `nil`.
    /// - Returns: for example `/v1/observations?gateway=10.1.2.3%3A3128&observer=abab`.
    public static func observationsPath(gateway: String?, observer: String?) -> String {
        var query: [String] = []
        if let gateway { query.append("gateway=" + percentEncoded(gateway)) }
        if let observer { query.append("observer=" + percentEncoded(observer)) }
        return "/v1/observations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// The request target of `GET /v1/peers` with its filters, percent-encoded.
    ///
    /// - Parameters:
    ///   - state: the states to keep, joined with commas; empty for none.
    ///   - name: the name pattern, or `nil`.
    /// - Returns: for example `/v1/peers?state=alive,suspect&name=gw-%2A`.
    public static func peersPath(state: [String], name: String?) -> String {
        var query: [String] = []
        if !state.isEmpty { query.append("state=" + state.map(percentEncoded).joined(separator: ",")) }
        if let name { query.append("name=" + percentEncoded(name)) }
        return "/v1/peers" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    // MARK: The event stream

    /// What a closure following the event stream tells the reader to do next.
    public enum FollowAction: Sendable, Equatable {
        /// Keep reading: wait for the next event.
        case keepReading
        /// Stop: close the connection and return.
        case stop
    }

    /// Why following the event stream ended.
    public enum FollowEnd: Sendable, Equatable {
        /// The closure returned ``FollowAction/stop``.
        case stoppedByCaller
        /// The daemon ended the stream or closed the connection: it is stopping or restarting.
        case closedByDaemon
    }

    /// Follows `GET /v1/events`, blocking, and calls `onLine` with each line as it arrives.
    ///
    /// The connection and the response headers are subject to ``timeout``; after that the reader
    /// waits for events as long as it takes (an idle cloud may send none for hours). Each line is
    /// one ``EventRecord`` as compact JSON, without its `\n`, byte for byte as the daemon sent it.
    /// - Parameter onLine: called with each line, in order; returns whether to keep reading.
    /// - Returns: why the stream ended.
    /// - Throws: ``LocalAPIError`` when the daemon cannot be reached, refuses the request (for
    ///   example `unavailable`, 503), or sends something that is not an HTTP stream.
    @discardableResult
    public func followEventLines(_ onLine: (Data) -> FollowAction) throws(LocalAPIError) -> FollowEnd {
        let fd = try connectSocket()
        defer { close(fd) }
        let request = "GET \(Self.eventsPath) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: overlayctl\r\nAccept: \(APISchema.eventStreamContentType)\r\nConnection: close\r\n\r\n"
        try sendAll(Array(request.utf8), on: fd)

        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        // The head, within the timeout.
        var head: HTTPResponseMessage
        var bodyStart: Int
        while true {
            let count = try receive(into: &chunk, from: fd)
            received.append(contentsOf: chunk[..<count])
            do throws(HTTPResponseParser.Malformed) {
                if let (parsedHead, start) = try HTTPResponseParser.parseHead(received) {
                    head = parsedHead
                    bodyStart = start
                    break
                }
                if count == 0 { throw HTTPResponseParser.Malformed(detail: received.isEmpty ? "the connection closed without a response" : "the connection closed inside the response headers") }
            } catch {
                throw .malformedResponse(at: socketPath, error.detail)
            }
        }
        guard (200..<300).contains(head.status) else {
            // An error answers with a whole JSON body: read it within the timeout.
            while true {
                let outcome: HTTPResponseParser.Outcome
                do {
                    outcome = try HTTPResponseParser.parse(received, atEOF: false)
                } catch {
                    throw .malformedResponse(at: socketPath, error.detail)
                }
                if case .complete(let message) = outcome { throw apiError(status: message.status, body: message.body) }
                let count = try receive(into: &chunk, from: fd)
                if count == 0 { throw apiError(status: head.status, body: Data(received[bodyStart...])) }
                received.append(contentsOf: chunk[..<count])
            }
        }

        // The body, without a time limit.
        var noLimit = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &noLimit, socklen_t(MemoryLayout<timeval>.size))
        let chunked = head.header("Transfer-Encoding")?.lowercased().contains("chunked") ?? false
        var decoder = ChunkedBodyDecoder()
        var splitter = LineSplitter()
        var pending = Array(received[bodyStart...])
        while true {
            do {
                let body = chunked ? try decoder.feed(pending) : pending
                for line in try splitter.append(body) where onLine(Data(line)) == .stop {
                    return .stoppedByCaller
                }
            } catch {
                throw .malformedResponse(at: socketPath, error.detail)
            }
            if decoder.isComplete { return .closedByDaemon }
            let count: Int
            do {
                count = try receive(into: &chunk, from: fd)
            } catch where error.isDaemonUnreachable {
                return .closedByDaemon  // reset by a daemon that went away
            }
            if count == 0 { return .closedByDaemon }
            pending = Array(chunk[..<count])
        }
    }

    /// Follows `GET /v1/events`, blocking, and calls `onEvent` with each event as it arrives.
    ///
    /// - Parameter onEvent: called with each decoded record and its line (the raw JSON, for
    ///   `--json` output), in order; returns whether to keep reading. Records of a type this
    ///   client does not know are passed on too (their payloads read as `nil`).
    /// - Returns: why the stream ended.
    /// - Throws: ``LocalAPIError``, as ``followEventLines(_:)``, and for a line that is not an
    ///   event record.
    @discardableResult
    public func followEvents(_ onEvent: (EventRecord, Data) -> FollowAction) throws(LocalAPIError) -> FollowEnd {
        var failure: LocalAPIError?
        let end = try followEventLines { line in
            do throws(LocalAPIError) {
                return onEvent(try decode(EventRecord.self, from: line, route: Self.eventsPath), line)
            } catch {
                failure = error
                return .stop
            }
        }
        if let failure { throw failure }
        return end
    }

    /// One `recv`, retried on `EINTR`; 0 at the end of the stream.
    private func receive(into buffer: inout [UInt8], from fd: Int32) throws(LocalAPIError) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            let error = errno
            if error == EINTR { continue }
            if error == EAGAIN || error == EWOULDBLOCK { throw .timedOut(at: socketPath, after: timeoutSeconds) }
            throw .connectionFailed(at: socketPath, errno: error)
        }
    }

    // MARK: Decoding and errors

    private func decode<T: Decodable>(_ type: T.Type, from body: Data, route: String) throws(LocalAPIError) -> T {
        do {
            return try APISchema.makeDecoder().decode(type, from: body)
        } catch {
            throw .malformedResponse(at: socketPath, "the JSON of \(route) does not decode: \(Self.describe(error))")
        }
    }

    private func apiError(status: Int, body: Data) -> LocalAPIError {
        if let response = try? APISchema.makeDecoder().decode(APIErrorResponse.self, from: body) {
            return .api(at: socketPath, status: status, code: response.error.code, message: response.error.message)
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return .api(at: socketPath, status: status, code: nil, message: text.isEmpty ? "no error body" : text)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted: "not valid JSON"
        default: "\(error)"
        }
    }

    // MARK: The exchange

    func exchange(method: String, path: String) throws(LocalAPIError) -> HTTPResponseMessage {
        let fd = try connectSocket()
        defer { close(fd) }
        let length = method == "GET" || method == "HEAD" ? "" : "Content-Length: 0\r\n"
        let request = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: overlayctl\r\nAccept: application/json\r\n\(length)Connection: close\r\n\r\n"
        try sendAll(Array(request.utf8), on: fd)

        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { throw .timedOut(at: socketPath, after: timeoutSeconds) }
                throw .connectionFailed(at: socketPath, errno: error)
            }
            let atEOF = count == 0
            received.append(contentsOf: chunk[..<count])
            do {
                if case .complete(let message) = try HTTPResponseParser.parse(received, atEOF: atEOF) {
                    return message
                }
            } catch {
                throw .malformedResponse(at: socketPath, error.detail)
            }
        }
    }

    private var timeoutSeconds: Double {
        Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    }

    private func connectSocket() throws(LocalAPIError) -> Int32 {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathBytes = Array(socketPath.utf8)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else { throw .pathTooLong(socketPath) }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }

        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw .connectionFailed(at: socketPath, errno: errno) }
        #if canImport(Darwin)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var limit = timeval(
            tv_sec: .init(timeout.components.seconds),
            tv_usec: .init(timeout.components.attoseconds / 1_000_000_000_000))
        if limit.tv_sec == 0, limit.tv_usec == 0 { limit.tv_usec = 1 }  // zero would mean "no timeout"
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        var result: Int32
        repeat {
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        } while result != 0 && errno == EINTR
        guard result == 0 else {
            let error = errno
            close(fd)
            switch error {
            case ENOENT, ENOTDIR: throw .noSocket(at: socketPath)
            case ECONNREFUSED, ENOTSOCK: throw .refused(at: socketPath)
            case EACCES, EPERM: throw .permissionDenied(at: socketPath, group: socketGroup())
            case EAGAIN, EINPROGRESS: throw .timedOut(at: socketPath, after: timeoutSeconds)
            default: throw .connectionFailed(at: socketPath, errno: error)
            }
        }
        return fd
    }

    private func sendAll(_ bytes: [UInt8], on fd: Int32) throws(LocalAPIError) {
        #if canImport(Glibc)
        let flags = Int32(MSG_NOSIGNAL)
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, flags) }
            if sent < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { throw .timedOut(at: socketPath, after: timeoutSeconds) }
                throw .connectionFailed(at: socketPath, errno: error)
            }
            offset += sent
        }
    }

    /// The name of the socket's group, to tell a user without permission which group to join.
    private func socketGroup() -> String? {
        var info = stat()
        guard stat(socketPath, &info) == 0, let group = getgrgid(info.st_gid), let name = group.pointee.gr_name else {
            return nil
        }
        return String(cString: name)
    }
}
