import Foundation

/// Starting the daemon, the CLI and Serf, and reading what `/proc` says about a process.
enum ProcessTools {
    /// Whether an executable called `name` is on `PATH`; its path if so.
    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Runs a command to completion and returns its standard output.
    ///
    /// - Throws: ``BenchError`` when it cannot start or exits with a failure.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\((path as NSString).lastPathComponent) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts a long-running process with its output in `log`.
    static func spawn(_ path: String, _ arguments: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The median wall time, in milliseconds, of `count` runs of a command (start to exit),
    /// its output discarded.
    ///
    /// Started with `posix_spawn`, as a shell starts it: Foundation's `Process` closes every
    /// possible descriptor in the child first, which costs tens of milliseconds when the
    /// descriptor limit is high and would be counted against the command.
    static func medianMilliseconds(_ path: String, _ arguments: [String], count: Int) throws -> Double {
        var times: [Double] = []
        for _ in 0..<count {
            var status: Int32 = 0
            var failure: Int32 = 0
            let elapsed = seconds { (failure, status) = spawnAndWait(path, arguments) }
            guard failure == 0 else { throw BenchError("cannot start \(path) (errno \(failure))") }
            guard status == 0 else {
                throw BenchError("\((path as NSString).lastPathComponent) \(arguments.joined(separator: " ")) exited with status \(status)")
            }
            times.append(elapsed * 1000)
        }
        return median(times)
    }

    /// Runs a command with standard output and error on `/dev/null`; returns the `posix_spawn`
    /// error (0 when it started) and the wait status.
    private static func spawnAndWait(_ path: String, _ arguments: [String]) -> (Int32, Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard error == 0 else { return (error, 0) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (0, status)
    }

    /// The resident set size of process `pid` in MB (`VmRSS` in `/proc/PID/status`).
    static func residentMegabytes(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Double(fields[1]) { return kilobytes / 1024 }
        }
        return nil
    }

    /// Ends a process started here: SIGTERM, then SIGKILL after a second.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<20 where process.isRunning { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// A failure of the suite itself (a daemon that does not start, a command that fails), told in
/// one sentence.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
