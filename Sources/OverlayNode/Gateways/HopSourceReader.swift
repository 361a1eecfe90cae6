import Foundation
import OverlayCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads the routing daemon's table for the hop counts of RIMO Algorithm 1: runs the configured
/// command (`/bin/sh -c`, with a time limit) and hands its output to the core's parser through
/// a ``HopTableCache``, which keeps the last good table when a read fails.
///
/// The shell polls it every `gateways.hop_refresh_s`; a failed read gives one log line naming
/// what is wrong and changes nothing else.
public struct HopSourceReader: Sendable {
    /// The routing daemon's format.
    public let format: HopSourceFormat
    /// The command whose standard output is the table.
    public let command: String
    /// How long the command may run. Default 5 s: batctl and a local socket answer in
    /// milliseconds; a hung daemon must not hold the poller.
    public let timeout: Duration

    /// Creates a reader.
    public init(format: HopSourceFormat, command: String, timeout: Duration = .seconds(5)) {
        self.format = format
        self.command = command
        self.timeout = timeout
    }

    /// The parser for ``format``.
    public var parser: any HopTableParser {
        switch format {
        case .batmanAdv: BatmanAdvParser()
        case .bmx7: Bmx7Parser()
        case .babel: BabelParser()
        }
    }

    /// Runs the command once.
    ///
    /// The command runs in its own process group with no signal blocked and every signal's
    /// default action (the daemon's threads block signals, and a child inheriting that mask
    /// never sees the `SIGALRM` that ends `nc -q 1`, or a `SIGTERM`). Its output is read on a
    /// thread of its own, never on Swift's shared pool, and when the time limit passes the
    /// whole group is killed, so a pipeline (`echo dump | nc ...`) cannot outlive it or hold
    /// the pipe open.
    ///
    /// - Returns: its standard output, or one sentence saying why there is none (the command
    ///   could not start, failed, or ran too long).
    public func run() async -> Result<String, HopSourceError> {
        let command = command, format = format
        let limit = timeout
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .utility).async {
                let outcome = ChildCommand.run(command, limit: limit)
                switch outcome {
                case .output(let data):
                    continuation.resume(returning: .success(String(decoding: data, as: UTF8.self)))
                case .couldNotStart(let errno):
                    continuation.resume(returning: .failure(HopSourceError(
                        format: format, problem: "the command \"\(command)\" could not start: \(String(cString: strerror(errno)))")))
                case .exited(let status):
                    continuation.resume(returning: .failure(HopSourceError(
                        format: format, problem: "the command \"\(command)\" exited with status \(status)")))
                case .timedOut:
                    continuation.resume(returning: .failure(HopSourceError(
                        format: format, problem: "the command \"\(command)\" ran longer than \(limit)")))
                }
            }
        }
    }

    /// Parses a run's output into `cache`; a failed run is recorded like a failed parse.
    ///
    /// - Returns: the new table, or the error (the cache keeps its last good table).
    public func apply(_ run: Result<String, HopSourceError>, to cache: inout HopTableCache, now: Instant) -> Result<HopTable, HopSourceError> {
        switch run {
        case .success(let text):
            return cache.refresh(with: text, parser: parser, now: now)
        case .failure(let error):
            // Record the failure the way a failed parse is recorded.
            _ = cache.refresh(with: "", parser: FailingParser(error: error), now: now)
            return .failure(error)
        }
    }

    /// A parser that always fails with `error`: records a command failure in the cache.
    private struct FailingParser: HopTableParser {
        let error: HopSourceError
        var format: HopSourceFormat { error.format }
        func parse(_ output: String) throws(HopSourceError) -> HopTable { throw error }
    }
}
