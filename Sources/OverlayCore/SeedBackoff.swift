import Foundation

/// When each configured seed that is not a live member is tried again, once this node knows a
/// live member: first ``MembershipSettings/joinRetryInterval`` after the seed was found unmet,
/// then at twice the previous wait, up to ``MembershipSettings/reconnectInterval``, and from
/// the start again once the seed has been met and is lost again.
///
/// A seed that is merely slower to come up than its neighbours (radio links come up in any
/// order, a power cut reboots a street at once) is met within seconds instead of waiting a
/// whole reconnect interval, while a seed that stays away costs one join every reconnect
/// interval, as before (exponential backoff, as TCP's connection retries and serf's rejoin).
public struct SeedBackoff: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var due: Instant
        var wait: Duration
    }

    /// The first wait.
    public let initial: Duration
    /// The longest wait.
    public let maximum: Duration
    private var entries: [PeerEndpoint: Entry] = [:]

    /// Creates the backoff of one node.
    ///
    /// - Parameters:
    ///   - initial: the first wait (the join-retry interval).
    ///   - maximum: the longest wait (the reconnect interval); at least `initial`.
    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = max(initial, maximum)
    }

    /// The seeds to try now.
    ///
    /// - Parameters:
    ///   - unmet: the seeds that are not live members now. A seed not among them is forgotten,
    ///     so it starts over at ``initial`` if it is ever unmet again.
    ///   - now: the current time.
    /// - Returns: those of `unmet` whose wait is over, in the order given.
    public mutating func due(unmet: [PeerEndpoint], now: Instant) -> [PeerEndpoint] {
        let current = Set(unmet)
        entries = entries.filter { current.contains($0.key) }
        var out: [PeerEndpoint] = []
        for seed in unmet {
            guard var entry = entries[seed] else {
                entries[seed] = Entry(due: now + initial, wait: initial)
                continue
            }
            guard now >= entry.due else { continue }
            out.append(seed)
            entry.wait = min(entry.wait.scaled(by: 2), maximum)
            entry.due = now + entry.wait
            entries[seed] = entry
        }
        return out
    }
}
