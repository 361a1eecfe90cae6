import Foundation
import OverlayCore
import OverlayCrypto

/// The key files of a roll, and edits of the keyring file (`overlayctl keys add` and `retire`).
///
///     <state_dir>/node.key.next    the successor's seed while a roll is announced
///
/// A roll writes `node.key.next` whole (``KeyFile/create(_:at:)``) before the roll is signed
/// and persisted, and promotes it with ``promoteNextKey()`` when the node switches: one rename
/// over `node.key`, which destroys the old key (a kept copy would only help a thief: a second roll
/// signed with it revokes the node's new key, see ``OverlayCore/KeyTrust``). A crash at any moment leaves `node.key` old or new, never missing; a start that finds
/// `node.key.next` finishes the switch if the persisted statements hold its roll and discards
/// it otherwise (see ``NodeRuntime``).
extension StateDirectory {
    /// The successor key's path during a roll.
    public var nextKeyPath: String { keyPath + ".next" }

    /// Creates the successor key for a roll, replacing a leftover one that was never announced.
    ///
    /// - Returns: the new identity, written whole to ``nextKeyPath``.
    public func createNextKey() throws -> NodeIdentity {
        unlink(nextKeyPath)
        let identity = NodeIdentity.generate()
        do {
            try KeyFile.create(identity, at: nextKeyPath)
        } catch let error as KeyFileError {
            throw StateError(error.description)
        }
        return identity
    }

    /// The successor key left by a roll, if any (`nil` also when it cannot be read).
    public func loadNextKey() -> NodeIdentity? {
        guard FileManager.default.fileExists(atPath: nextKeyPath) else { return nil }
        return try? KeyFile.load(from: nextKeyPath)
    }

    /// Removes a successor key that was never announced.
    public func discardNextKey() { unlink(nextKeyPath) }

    /// Makes the successor key the node key (a rename over `node.key`) and syncs the directory.
    public func promoteNextKey() throws {
        guard rename(nextKeyPath, keyPath) == 0 else {
            throw StateError("cannot make \(nextKeyPath) the node key: \(String(cString: strerror(errno)))")
        }
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Adds a key to a keyring file (a new line at its end), or replaces its line.
    ///
    /// The file is rewritten crash-safely; other lines and comments are kept as they are.
    /// - Throws: ``StateError`` if the file cannot be read, parsed or written.
    public static func writeKeyringEntry(_ entry: Keyring.Entry, path: String) throws {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        do {
            _ = try Keyring.parse(text, source: path)
        } catch let error as KeyringError {
            throw StateError("\(error.description); fix the file before changing keys")
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        if lines.last == "" { lines.removeLast() }
        let index = lines.firstIndex { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return content.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { NodeID(hex: String($0)) } == entry.id
        }
        if let index {
            let comment = lines[index].firstIndex(of: "#").map { "  " + lines[index][$0...] } ?? ""
            lines[index] = entry.line + comment
        } else {
            lines.append(entry.line)
        }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: path, mode: 0o644)
    }
}
