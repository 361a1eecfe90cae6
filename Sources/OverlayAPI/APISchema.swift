import Foundation

/// The version of the local API's JSON schema, and the constants every client and server shares.
///
/// Every response carries the schema version as `"schema"`. The rule that keeps scripts working
/// across upgrades: within one schema version fields are only ever added, never removed, renamed
/// or given a new meaning. A change that would break that rule raises ``version`` and moves the
/// routes to a new prefix (`/v2/`), while `/v1/` keeps answering.
public enum APISchema {
    /// The schema version this build speaks.
    public static let version = 1

    /// The default path of the daemon's Unix socket.
    public static let defaultSocketPath = "/run/overlayd/overlayd.sock"

    /// The HTTP header that carries the daemon's version string on every response.
    public static let versionHeader = "X-Overlayd-Version"

    /// The content type of JSON responses.
    public static let jsonContentType = "application/json"

    /// The content type of `/metrics` (Prometheus text exposition format 0.0.4).
    public static let metricsContentType = "text/plain; version=0.0.4"

    /// The content type of the event stream, `GET /v1/events`: newline-delimited JSON, one
    /// ``EventRecord`` per line.
    public static let eventStreamContentType = "application/x-ndjson"

    /// Creates the encoder the daemon uses for every JSON response.
    ///
    /// Keys are sorted and the output is indented, so `curl` output is readable and two responses
    /// diff cleanly. Key names come from each type's explicit `CodingKeys` (snake_case).
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Creates the encoder the daemon uses for the lines of the event stream.
    ///
    /// Compact (one record is one line, so no indentation), with sorted keys; the caller appends
    /// the `\n` that ends each line.
    public static func makeLineEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Creates the decoder clients use for every JSON response.
    ///
    /// Unknown keys are ignored, so a client built against an older revision of schema 1 reads a
    /// newer daemon's responses.
    public static func makeDecoder() -> JSONDecoder {
        JSONDecoder()
    }
}
