/// Decodes a `Transfer-Encoding: chunked` body as its bytes arrive, for responses that never end
/// on their own (the event stream).
///
/// ``HTTPResponseParser`` waits for a whole response; this one hands out each chunk's bytes as
/// soon as they are read, so a line can be acted on while the connection stays open.
struct ChunkedBodyDecoder {
    private enum State: Equatable {
        /// Expecting a chunk-size line.
        case size
        /// Inside a chunk's data, with this many bytes left.
        case data(remaining: Int)
        /// Expecting the CRLF after a chunk's data.
        case dataEnd
        /// After the last chunk: trailer lines until an empty one.
        case trailers
        /// The body is complete.
        case done
    }

    private static let maximumLineLength = 4096

    private var state = State.size
    private var pending: [UInt8] = []

    /// Whether the terminating chunk (and its trailers) has been read.
    var isComplete: Bool { state == .done }

    /// Feeds the bytes read from the connection; returns the body bytes they complete.
    ///
    /// Bytes after the end of the body are ignored.
    /// - Parameter bytes: the next bytes of the body, as read.
    /// - Returns: decoded body bytes, possibly none.
    /// - Throws: ``HTTPResponseParser/Malformed`` for a bad chunk size, a missing CRLF or an
    ///   overlong size or trailer line.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPResponseParser.Malformed) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var output: [UInt8] = []
        var index = 0
        defer { pending.removeFirst(index) }
        while index < pending.count {
            switch state {
            case .done:
                index = pending.count
            case .size, .trailers:
                guard let lineEnd = lineEnd(from: index) else {
                    if pending.count - index > Self.maximumLineLength {
                        throw HTTPResponseParser.Malformed(detail: "a chunk size or trailer line longer than \(Self.maximumLineLength) bytes")
                    }
                    return output
                }
                let line = pending[index..<lineEnd]
                index = lineEnd + 2
                if state == .trailers {
                    if line.isEmpty { state = .done }
                    continue
                }
                let text = String(decoding: line, as: UTF8.self)
                let sizeText = text.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
                    throw HTTPResponseParser.Malformed(detail: "a chunk size of '\(text.prefix(20))'")
                }
                state = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                let take = min(remaining, pending.count - index)
                output.append(contentsOf: pending[index..<index + take])
                index += take
                state = remaining == take ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                guard pending.count - index >= 2 else { return output }
                guard pending[index] == 13, pending[index + 1] == 10 else {
                    throw HTTPResponseParser.Malformed(detail: "a chunk not followed by CRLF")
                }
                index += 2
                state = .size
            }
        }
        return output
    }

    /// The index of the next CRLF at or after `start`, if it has arrived.
    private func lineEnd(from start: Int) -> Int? {
        var index = start
        while index + 1 < pending.count {
            if pending[index] == 13, pending[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}

/// Splits a byte stream into newline-delimited lines (NDJSON), as the bytes arrive.
///
/// A line ends with `\n`; a `\r` before it is dropped; empty lines are skipped (a server may send
/// them to keep a connection alive). A line longer than ``maximumLineLength`` is an error, so a
/// broken server cannot make the client buffer without end.
struct LineSplitter {
    /// The longest line accepted, in bytes (1 MiB).
    static let maximumLineLength = 1 << 20

    private var partial: [UInt8] = []

    /// The bytes of an unfinished last line.
    var remainder: [UInt8] { partial }

    /// Appends bytes and returns the lines they complete, without their line ends.
    ///
    /// - Parameter bytes: the next bytes of the stream.
    /// - Returns: the completed, non-empty lines in order.
    /// - Throws: ``HTTPResponseParser/Malformed`` when a line grows past ``maximumLineLength``.
    mutating func append(_ bytes: some Sequence<UInt8>) throws(HTTPResponseParser.Malformed) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == 10 {
                if partial.last == 13 { partial.removeLast() }
                if !partial.isEmpty { lines.append(partial) }
                partial.removeAll(keepingCapacity: true)
            } else {
                partial.append(byte)
                if partial.count > Self.maximumLineLength {
                    throw HTTPResponseParser.Malformed(detail: "an event line longer than \(Self.maximumLineLength) bytes")
                }
            }
        }
        return lines
    }
}
