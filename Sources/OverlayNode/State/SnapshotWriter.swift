import Dispatch
import Foundation
import NIOConcurrencyHelpers
import OverlayCore

/// Writes peer snapshots on a thread of its own, so that the write and its fsyncs (milliseconds
/// on a flash card, far more on a busy one) never hold up the node's actor and its UDP handling.
///
/// Writes happen in submission order, one at a time. Snapshots submitted while one is being
/// written are coalesced: only the newest is written next, since each snapshot is the whole
/// state. ``flush()`` waits until everything submitted is on disk (shutdown calls it).
///
/// What this gives up: a snapshot asked for "at once" (a new incarnation, a vote) reaches the
/// disk a few milliseconds after the actor moves on, rather than before. Votes and incarnations
/// leave the node piggybacked on later datagrams (the next probe period, hundreds of
/// milliseconds), so in practice the write lands first; a crash in between forgets at most that
/// last step, as a crash just before it would.
final class SnapshotWriter: Sendable {
    private let directory: StateDirectory
    private let queue = DispatchQueue(label: "overlayd.snapshot-writer")
    private let pending = NIOLockedValueBox<(snapshot: PeerSnapshot?, draining: Bool)>((nil, false))
    private let onError: @Sendable (StateError) -> Void
    private let written = NIOLockedValueBox(0)

    /// Creates a writer.
    ///
    /// - Parameters:
    ///   - directory: where `peers.json` lives.
    ///   - onError: told (on the writer's thread) when a write fails; the next snapshot tries again.
    init(directory: StateDirectory, onError: @escaping @Sendable (StateError) -> Void) {
        self.directory = directory
        self.onError = onError
    }

    /// How many snapshots were written so far.
    var writes: Int { written.withLockedValue { $0 } }

    /// Queues `snapshot` to be written; returns at once.
    func submit(_ snapshot: PeerSnapshot) {
        let start = pending.withLockedValue { state -> Bool in
            state.snapshot = snapshot
            defer { state.draining = true }
            return !state.draining
        }
        if start { queue.async { self.drain() } }
    }

    /// Waits until every snapshot submitted before the call is on disk.
    func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }

    private func drain() {
        while let snapshot = next() {
            do {
                try directory.saveSnapshot(snapshot)
                written.withLockedValue { $0 += 1 }
            } catch let error as StateError {
                onError(error)
            } catch {
                onError(StateError("cannot encode the peer snapshot: \(error)"))
            }
        }
    }

    private func next() -> PeerSnapshot? {
        pending.withLockedValue { state in
            guard let snapshot = state.snapshot else {
                state.draining = false
                return nil
            }
            state.snapshot = nil
            return snapshot
        }
    }
}
