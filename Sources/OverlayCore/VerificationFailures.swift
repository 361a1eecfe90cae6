import Foundation

/// The admitted keys whose datagrams or relayed items failed signature verification, so a
/// broken or lying member is reported (`GET /v1/status`'s `suspicious`, the metric
/// `overlayd_suspicious_members`) rather than only counted under a reason.
///
/// Who is blamed: for a datagram whose signature fails (``RejectReason/badSignature``), the
/// key it names as its sender; for a forged item (``RejectReason/forgedItem``) inside a
/// datagram that did verify, that datagram's sender, since an honest relay forwards only
/// items it verified itself. The first is a claim nobody proved (anyone can write a member's
/// key into a datagram), so a report is a lead for the operator, never grounds for removing
/// a member automatically.
///
/// Bounded: only keys the keyring admits are counted (the codec refuses the others before
/// any signature check), and at most ``capacity`` of them, the least recently failing
/// forgotten first.
public struct VerificationFailures: Sendable, Equatable {
    /// What failed.
    public enum Kind: Sendable, Equatable {
        /// The signature of a datagram naming the key as its sender.
        case datagram
        /// The origin's signature of an item the key relayed.
        case relayedItem
    }

    /// One key's failures.
    public struct Record: Sendable, Equatable {
        /// Datagrams naming this key as sender whose signature failed.
        public var badDatagrams = 0
        /// Forged items this key relayed.
        public var forgedItems = 0
        /// When the first counted failure happened.
        public var firstAt: Instant
        /// When the last one happened.
        public var lastAt: Instant

        /// All failures.
        public var total: Int { badDatagrams + forgedItems }
    }

    /// Failures within ``window`` that make a key reported. Default 3: one corrupted datagram
    /// is radio noise that slipped past the checksum, three is a pattern.
    public static let reportThreshold = 3
    /// How long a key stays reported after its last failure. Default 10 minutes: long enough
    /// for an operator to look, short enough that a fixed member drops off by itself.
    public static let window: Duration = .seconds(600)
    /// The most keys remembered. Default 1,024: a large community cloud's keyring.
    public let capacity: Int

    private(set) var records: [NodeID: Record] = [:]

    /// Creates an empty record keeper.
    public init(capacity: Int = 1_024) { self.capacity = max(1, capacity) }

    /// Counts one failure of `key` at `now`.
    public mutating func note(_ key: NodeID, _ kind: Kind, now: Instant) {
        var record = records[key] ?? Record(firstAt: now, lastAt: now)
        if now - record.lastAt > Self.window { record = Record(firstAt: now, lastAt: now) }
        switch kind {
        case .datagram: record.badDatagrams += 1
        case .relayedItem: record.forgedItems += 1
        }
        record.lastAt = now
        records[key] = record
        if records.count > capacity, let oldest = records.min(by: { $0.value.lastAt < $1.value.lastAt })?.key {
            records[oldest] = nil
        }
    }

    /// The failures counted for `key` (within the window of its last failure), if any.
    public func record(of key: NodeID) -> Record? { records[key] }

    /// The keys reported at `now`: at least ``reportThreshold`` failures, the last within
    /// ``window``; most failures first, then by key.
    public func suspicious(now: Instant) -> [(key: NodeID, record: Record)] {
        records
            .filter { $0.value.total >= Self.reportThreshold && now - $0.value.lastAt <= Self.window }
            .map { (key: $0.key, record: $0.value) }
            .sorted { $0.record.total != $1.record.total ? $0.record.total > $1.record.total : $0.key < $1.key }
    }
}
