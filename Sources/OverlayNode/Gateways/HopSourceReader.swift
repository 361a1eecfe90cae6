import Foundation
import OverlayCore

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
    /// - Returns: its standard output, or one sentence saying why there is none (the command
    ///   could not start, failed, or ran too long).
    public func run() async -> Result<String, HopSourceError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(HopSourceError(format: format, problem: "the command \"\(command)\" could not start: \(error)"))
        }
        let reading = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
            return .failure(HopSourceError(format: format, problem: "the command \"\(command)\" ran longer than \(timeout)"))
        }
        let data = await reading.value
        guard process.terminationStatus == 0 else {
            return .failure(HopSourceError(
                format: format, problem: "the command \"\(command)\" exited with status \(process.terminationStatus)"))
        }
        return .success(String(decoding: data, as: UTF8.self))
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
