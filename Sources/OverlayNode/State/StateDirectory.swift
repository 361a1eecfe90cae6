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

    /// Reads the snapshot; `nil` if there is none. A corrupt snapshot is reported, not fatal:
    /// the node starts as new and rewrites it.
    public func loadSnapshot() -> Result<PeerSnapshot?, StateError> {
        guard let data = FileManager.default.contents(atPath: snapshotPath) else { return .success(nil) }
        do {
            return .success(try JSONDecoder().decode(PeerSnapshot.self, from: data))
        } catch {
            return .failure(StateError("ignoring unreadable snapshot \(snapshotPath) (\(error)); starting without it"))
        }
    }

    /// Writes the snapshot crash-safely: a temporary file in the same directory, fsync, rename,
    /// then fsync of the directory, so a crash leaves the old or the new snapshot, never half.
    public func saveSnapshot(_ snapshot: PeerSnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(snapshot)
        try AtomicFile.write(data, to: snapshotPath)
    }
}

/// Crash-safe file replacement.
public enum AtomicFile {
    /// Writes `data` to `path` via a temporary file, fsync and rename.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
        guard fd >= 0 else { throw StateError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else {
            unlink(temporary)
            throw StateError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            throw StateError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
