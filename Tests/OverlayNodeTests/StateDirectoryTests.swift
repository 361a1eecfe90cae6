import Foundation
import OverlayCore
import Testing

@testable import OverlayNode

/// The state directory's files: written whole or not at all, a corrupt snapshot set aside.
@Suite struct StateDirectoryTests {
    private func temporaryDirectory() throws -> StateDirectory {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overlayd-state-\(UUID().uuidString.prefix(8))").path
        let directory = StateDirectory(path: path)
        try directory.createDirectory()
        return directory
    }

    @Test func aCorruptSnapshotIsMovedAsideAndReportedInOneSentence() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let identity = try directory.initialise()
        let garbage = Data("{\"incarnation\": 3, \"peers\": [{\"id\"".utf8)
        try garbage.write(to: URL(fileURLWithPath: directory.snapshotPath))

        let result = directory.loadSnapshot(now: Date(timeIntervalSince1970: 1_800_000_000))
        guard case .failure(let error) = result else {
            Issue.record("a torn snapshot was accepted: \(result)")
            return
        }
        let aside = directory.snapshotPath + ".corrupt-1800000000"
        #expect(error.description == "the peer snapshot \(directory.snapshotPath) cannot be read (it is not JSON); moved it to \(aside) and starting from the seeds, node key untouched")
        #expect(!error.description.contains("\n"))
        #expect(FileManager.default.contents(atPath: aside) == garbage)
        #expect(!FileManager.default.fileExists(atPath: directory.snapshotPath))
        #expect(try directory.loadIdentity().publicKey == identity.publicKey)
        // Next start: no snapshot, no complaint.
        #expect(try directory.loadSnapshot().get() == nil)
    }

    @Test func anEmptyOrForeignSnapshotIsNamedAsSuch() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        try Data().write(to: URL(fileURLWithPath: directory.snapshotPath))
        guard case .failure(let empty) = directory.loadSnapshot() else { Issue.record("an empty snapshot was accepted"); return }
        #expect(empty.description.contains("(it is empty)"))
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: directory.snapshotPath))
        guard case .failure(let foreign) = directory.loadSnapshot(now: Date(timeIntervalSince1970: 1)) else {
            Issue.record("a foreign JSON file was accepted")
            return
        }
        #expect(foreign.description.contains("(it is not a peer snapshot)"))
    }

    @Test func anAtomicWriteReplacesTheWholeFileAndLeavesNoTemporary() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let path = directory.path + "/file"
        // A temporary left by a crash mid-write is simply overwritten.
        try Data(repeating: 0x41, count: 100_000).write(to: URL(fileURLWithPath: path + ".tmp"))
        try AtomicFile.write(Data(repeating: 0x42, count: 300_000), to: path)
        try AtomicFile.write(Data("short".utf8), to: path)
        #expect(FileManager.default.contents(atPath: path) == Data("short".utf8))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func theSnapshotWriterWritesTheNewestAndFlushWaitsForIt() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory.path) }
        let writer = SnapshotWriter(directory: directory) { error in Issue.record("write failed: \(error)") }
        for incarnation in 1...50 { writer.submit(PeerSnapshot(incarnation: UInt64(incarnation), session: 9, peers: [])) }
        await writer.flush()
        #expect(try directory.loadSnapshot().get()?.incarnation == 50)
        #expect(writer.writes >= 1 && writer.writes <= 50)
    }
}
