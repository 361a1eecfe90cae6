import Foundation

/// Why a key file could not be read or written; the message says what to do.
public struct KeyFileError: Error, CustomStringConvertible, Sendable {
    /// One sentence for the operator.
    public let description: String

    static func malformed(_ detail: String) -> KeyFileError { KeyFileError(description: detail) }
}

/// The node's private key file.
///
/// Format: one line, `ed25519-seed:` followed by the 32-byte seed in hex, written with mode 0600.
/// The public key is derived from the seed, so the file cannot disagree with itself.
public enum KeyFile {
    /// The text that starts a key file's only line.
    static let prefix = "ed25519-seed:"

    /// Writes a new key file, refusing to overwrite an existing one.
    ///
    /// The file is created exclusively with mode 0600, written, fsynced and closed, so a crash
    /// leaves either no file or a complete one.
    /// - Throws: ``KeyFileError`` if the file exists or cannot be written.
    public static func create(_ identity: NodeIdentity, at path: String) throws {
        // Written whole to a temporary file, then linked into place: link() fails if the key
        // exists (never overwritten) and is atomic, so a crash leaves no key or the whole key,
        // never an empty or half-written one.
        var info = stat()
        if lstat(path, &info) == 0 {
            throw KeyFileError(description: "\(path) already exists; refusing to overwrite a node key (remove it first if you really mean to change this node's identity)")
        }
        let temporary = "\(path).new-\(getpid())"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw KeyFileError(description: "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        defer { unlink(temporary) }
        fchmod(fd, 0o600)
        let text = Array("\(prefix)\(Hex.encode(identity.seed))\n".utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.count, synced == 0 else {
            throw KeyFileError(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST {
                throw KeyFileError(description: "\(path) already exists; refusing to overwrite a node key (remove it first if you really mean to change this node's identity)")
            }
            throw KeyFileError(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Reads a key file.
    ///
    /// - Throws: ``KeyFileError`` if it is missing, readable by others, or malformed.
    public static func load(from path: String) throws -> NodeIdentity {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw KeyFileError(description: "no node key at \(path); create one with 'overlayd init --state-dir DIR'")
        }
        if info.st_mode & 0o077 != 0 {
            throw KeyFileError(description: "\(path) is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run 'chmod 600 \(path)'")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw KeyFileError(description: "cannot read \(path)")
        }
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard line.hasPrefix(prefix), let seed = Hex.decode(String(line.dropFirst(prefix.count))) else {
            throw KeyFileError(description: "\(path) is not an overlayd key file (expected one line '\(prefix)<64 hex digits>')")
        }
        return try NodeIdentity(seed: seed)
    }
}
