import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run of a `/bin/sh -c` command for the hop source: spawned in a process group of its own
/// with a clean signal state, its standard output collected until it ends or a time limit
/// passes, the whole group killed then.
///
/// Foundation's `Process` spawns with the calling thread's signal mask, and the daemon's
/// threads block most signals; a command started that way cannot be stopped by `SIGALRM` or
/// `SIGTERM` (`nc -q 1`, which quits on an alarm, then hangs for ever), and killing only the
/// shell leaves the rest of a pipeline holding the pipe open. This blocks the calling thread:
/// call it off Swift's shared pool (``HopSourceReader/run()`` does).
enum ChildCommand {
    /// How a run ended.
    enum Outcome: Equatable {
        /// Exit status 0, with everything it wrote to standard output.
        case output(Data)
        /// It exited with another status (or was killed by a signal: 128 + the signal).
        case exited(Int32)
        /// It ran past the limit; its process group was killed.
        case timedOut
        /// `posix_spawn` (or `pipe`) failed with this errno.
        case couldNotStart(Int32)
    }

    /// Runs `command` under `/bin/sh -c` with standard input and error on `/dev/null`.
    ///
    /// - Parameters:
    ///   - command: the shell command.
    ///   - limit: how long it may run before its process group is killed.
    /// - Returns: how it ended.
    static func run(_ command: String, limit: Duration) -> Outcome {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return .couldNotStart(errno) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // Neither end may leak into the child beyond its standard output (dup2 clears the flag).
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var pid: pid_t = 0
        let arguments = ["/bin/sh", "-c", command]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            return .couldNotStart(spawned)
        }

        let deadline = ContinuousClock.now + limit
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var open = true
        while open {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return killed(pid, readEnd) }
            var poller = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min(Int64(200), max(Int64(1), left.wholeMilliseconds)))
            let ready = poll(&poller, 1, wait)
            if ready < 0, errno != EINTR { break }
            guard ready > 0 else { continue }
            let count = read(readEnd, &buffer, buffer.count)
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR && errno != EAGAIN {
                open = false
            }
        }
        close(readEnd)
        // The output is complete; the shell normally exits at the same moment.
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0, errno != EINTR { return .exited(-1) }
            if ContinuousClock.now >= deadline { return killed(pid, nil) }
            usleep(5_000)
        }
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return code == 0 ? .output(output) : .exited(code)
    }

    /// Kills the command's process group and reaps the shell.
    private static func killed(_ pid: pid_t, _ readEnd: Int32?) -> Outcome {
        kill(-pid, SIGKILL)
        if let readEnd { close(readEnd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return .timedOut
    }
}

private extension Duration {
    /// Whole milliseconds, rounded down.
    var wholeMilliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }
}
