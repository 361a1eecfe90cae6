/// An admitted key whose datagrams or relayed items failed signature verification repeatedly
/// (at least 3 times, the last within 10 minutes): a broken member, a lying one, or someone
/// writing its key into forged datagrams. One entry of `GET /v1/status`'s `suspicious`.
///
/// JSON keys are snake_case. The node only reports; it removes no one for it.
public struct SuspiciousMember: Codable, Sendable, Equatable {
    /// The key, 64 hex digits.
    public var id: String
    /// The member's announced name, else the keyring's label, else empty.
    public var name: String
    /// Datagrams naming this key as sender whose signature failed.
    public var badDatagrams: Int
    /// Items this key relayed whose origin's signature failed.
    public var forgedItems: Int
    /// Seconds since the last failure.
    public var lastFailureSecondsAgo: Double

    /// Creates an entry.
    public init(id: String, name: String, badDatagrams: Int, forgedItems: Int, lastFailureSecondsAgo: Double) {
        self.id = id
        self.name = name
        self.badDatagrams = badDatagrams
        self.forgedItems = forgedItems
        self.lastFailureSecondsAgo = lastFailureSecondsAgo
    }

    enum CodingKeys: String, CodingKey {
        case id
        case name
        case badDatagrams = "bad_datagrams"
        case forgedItems = "forged_items"
        case lastFailureSecondsAgo = "last_failure_seconds_ago"
    }
}
