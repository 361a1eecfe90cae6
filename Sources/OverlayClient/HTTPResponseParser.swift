import Foundation

/// A complete HTTP/1.1 response as the client reads it.
struct HTTPResponseMessage: Equatable {
    /// The status code.
    var status: Int
    /// The headers in order, names as sent.
    var headers: [(name: String, value: String)]
    /// The body, de-chunked.
    var body: Data

    /// The first header with this name, compared without case.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    static func == (lhs: HTTPResponseMessage, rhs: HTTPResponseMessage) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Parses one HTTP/1.1 response from the bytes read so far.
///
/// The body is framed by `Transfer-Encoding: chunked`, else `Content-Length`, else the end of the
/// connection (the client always sends `Connection: close`). Called again after every read until
/// it reports the response complete.
enum HTTPResponseParser {
    /// The outcome of one attempt.
    enum Outcome: Equatable {
        /// More bytes are needed.
        case incomplete
        /// The response is complete.
        case complete(HTTPResponseMessage)
    }

    /// Why the bytes are not an HTTP response, in a few words.
    struct Malformed: Error, Equatable {
        var detail: String
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let headerEnd: [UInt8] = [13, 10, 13, 10]

    /// Tries to parse a response.
    ///
    /// - Parameters:
    ///   - bytes: everything read from the connection so far.
    ///   - atEOF: whether the peer has closed the connection (no more bytes will come).
    /// - Returns: `.complete` with the response, or `.incomplete` when more bytes are needed.
    /// - Throws: ``Malformed`` when the bytes cannot become a valid response.
    static func parse(_ bytes: [UInt8], atEOF: Bool) throws(Malformed) -> Outcome {
        guard let (head, bodyStart) = try parseHead(bytes) else {
            if atEOF {
                throw Malformed(detail: bytes.isEmpty ? "the connection closed without a response" : "the connection closed inside the response headers")
            }
            return .incomplete
        }
        var message = head
        let status = message.status

        if status / 100 == 1 || status == 204 || status == 304 {
            return .complete(message)
        }
        if let encoding = message.header("Transfer-Encoding"), encoding.lowercased().contains("chunked") {
            guard let body = try dechunk(bytes, from: bodyStart) else {
                if atEOF { throw Malformed(detail: "the connection closed inside a chunked body") }
                return .incomplete
            }
            message.body = body
            return .complete(message)
        }
        if let lengthText = message.header("Content-Length") {
            guard let length = Int(lengthText), length >= 0 else {
                throw Malformed(detail: "a Content-Length of '\(lengthText)'")
            }
            let available = bytes.count - bodyStart
            guard available >= length else {
                if atEOF { throw Malformed(detail: "the connection closed after \(available) of \(length) body bytes") }
                return .incomplete
            }
            message.body = Data(bytes[bodyStart..<bodyStart + length])
            return .complete(message)
        }
        guard atEOF else { return .incomplete }
        message.body = Data(bytes[bodyStart...])
        return .complete(message)
    }

    /// Parses the status line and headers, once they have all arrived.
    ///
    /// - Parameter bytes: everything read from the connection so far.
    /// - Returns: the response without its body, and the index where the body starts; `nil`
    ///   while the blank line that ends the headers has not arrived.
    /// - Throws: ``Malformed`` for a bad status line or header, or headers over 64 KiB.
    static func parseHead(_ bytes: [UInt8]) throws(Malformed) -> (HTTPResponseMessage, bodyStart: Int)? {
        guard let headEnd = find(headerEnd, in: bytes, from: 0) else {
            if bytes.count > 64 * 1024 { throw Malformed(detail: "response headers longer than 64 KiB") }
            return nil
        }
        let headText = String(decoding: bytes[..<headEnd], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), statusParts[1].count == 3,
              let status = Int(statusParts[1])
        else {
            throw Malformed(detail: "not an HTTP/1.x status line: '\(statusLine.prefix(60))'")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw Malformed(detail: "a header line without a colon: '\(line.prefix(60))'")
            }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
        return (HTTPResponseMessage(status: status, headers: headers, body: Data()), headEnd + headerEnd.count)
    }

    /// Decodes a chunked body; `nil` while the last chunk has not arrived.
    private static func dechunk(_ bytes: [UInt8], from start: Int) throws(Malformed) -> Data? {
        var body = Data()
        var index = start
        while true {
            guard let lineEnd = find(crlf, in: bytes, from: index) else { return nil }
            let sizeLine = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else {
                throw Malformed(detail: "a chunk size of '\(sizeLine.prefix(20))'")
            }
            index = lineEnd + crlf.count
            if size == 0 {
                // Trailers, then an empty line.
                while true {
                    guard let trailerEnd = find(crlf, in: bytes, from: index) else { return nil }
                    let empty = trailerEnd == index
                    index = trailerEnd + crlf.count
                    if empty { return body }
                }
            }
            guard bytes.count >= index + size + crlf.count else { return nil }
            body.append(contentsOf: bytes[index..<index + size])
            index += size
            guard bytes[index] == 13, bytes[index + 1] == 10 else {
                throw Malformed(detail: "a chunk not followed by CRLF")
            }
            index += crlf.count
        }
    }

    /// The index where `needle` first occurs in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0] {
                var match = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index }
            }
            index += 1
        }
        return nil
    }
}
