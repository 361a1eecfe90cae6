import Foundation
import OverlayCore
import OverlayCrypto

/// A problem with the state directory, as one sentence for the operator.
public struct StateError: Error, CustomStringConvertible, Sendable {
    /// The sentence.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The node's state directory: its key, the community keyring and the peer snapshot.
///
///     <state_dir>/node.key     Ed25519 seed, mode 0600 (`overlayd init` creates it)
///     <state_dir>/keyring      admitted public keys, one a line (the operator manages it)
///     <state_dir>/peers.json   known peers, incarnation and session (overlayd rewrites it)
public struct StateDirectory: Sendable {
    /// The directory.
    public let path: String

    /// Creates a handle; nothing is touched until a method is called.
    public init(path: String) { self.path = path }

    /// The key file's path.
    public var keyPath: String { path + "/node.key" }
    /// The snapshot's path.
    public var snapshotPath: String { path + "/peers.json" }
    /// The default keyring path.
    public var defaultKeyringPath: String { path + "/keyring" }

    /// Creates the directory (mode 0700) and a new node key; refuses if a key exists.
    ///
    /// - Returns: the new identity.
    public func initialise() throws -> NodeIdentity {
        try createDirectory()
        let identity = NodeIdentity.generate()
        do {
            try KeyFile.create(identity, at: keyPath)
        } catch let error as KeyFileError {
            throw StateError(error.description)
        }
        return identity
    }

    /// Creates the directory with mode 0700 if it does not exist.
    public func createDirectory() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StateError("\(path) exists but is not a directory; choose another --state-dir") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StateError("cannot create state directory \(path): \(error.localizedDescription)")
        }
    }

    /// Loads the node key.
    public func loadIdentity() throws -> NodeIdentity {
        do {
            return try KeyFile.load(from: keyPath)
        } catch let error as KeyFileError {
            throw StateError(error.description)
        }
    }

    /// Loads a keyring file. The node's own key is always admitted.
    public static func loadKeyring(path: String, localID: NodeID) throws -> Keyring {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StateError("no keyring at \(path); list the admitted public keys there, one a line (see Docs/operations.md)")
        }
        do {
            var keyring = try Keyring.parse(text, source: path)
            if keyring.entries[localID] == nil { keyring.insert(Keyring.Entry(id: localID, label: "self")) }
            return keyring
        } catch let error as KeyringError {
            throw StateError(error.description)
        }
    }

    /// Reads the snapshot; `nil` if there is none.
    ///
    /// A snapshot that cannot be read is not fatal: it is moved aside to
    /// `peers.json.corrupt-<unix time>` (kept for a post-mortem, never read again), and the
    /// failure says so in one sentence; the node then starts from its seeds, with its key
    /// (a separate file) untouched, and writes a new snapshot.
    ///
    /// - Parameter now: the time stamped on the set-aside file's name; default the wall clock.
    public func loadSnapshot(now: Date = Date()) -> Result<PeerSnapshot?, StateError> {
        guard let data = FileManager.default.contents(atPath: snapshotPath) else { return .success(nil) }
        let problem: String
        do {
            return .success(try JSONDecoder().decode(PeerSnapshot.self, from: data))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            problem = data.isEmpty ? "it is empty" : "it is not JSON"
        } catch {
            problem = "it is not a peer snapshot"
        }
        let aside = "\(snapshotPath).corrupt-\(Int(now.timeIntervalSince1970))"
        guard rename(snapshotPath, aside) == 0 else {
            return .failure(StateError(
                "the peer snapshot \(snapshotPath) cannot be read (\(problem)) nor moved aside (\(String(cString: strerror(errno)))); starting from the seeds without it, node key untouched"))
        }
        return .failure(StateError(
            "the peer snapshot \(snapshotPath) cannot be read (\(problem)); moved it to \(aside) and starting from the seeds, node key untouched"))
    }

    /// Writes the snapshot crash-safely (``AtomicFile``): a crash leaves the old or the new
    /// snapshot, never half.
    public func saveSnapshot(_ snapshot: PeerSnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(snapshot)
        try AtomicFile.write(data, to: snapshotPath)
    }
}

/// Crash-safe file replacement.
public enum AtomicFile {
    /// Replaces the file at `path` with `data` so that a crash or power cut at any moment leaves
    /// the old file or the new one, never a torn mix.
    ///
    /// The bytes go to `<path>.tmp` in the same directory (same file system, so the rename is
    /// atomic), which is fsynced, then renamed over `path`, then the directory is fsynced so the
    /// rename itself survives a power cut. A `.tmp` left by a crash is truncated by the next write.
    ///
    /// - Parameters:
    ///   - data: the new contents.
    ///   - path: the file to replace.
    ///   - mode: the new file's mode; default `0o600`.
    /// - Throws: ``StateError`` naming the file and the system's reason.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw StateError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temporary)
            throw StateError("cannot write \(temporary): \(String(cString: strerror(failure)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StateError("cannot replace \(path): \(reason)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
