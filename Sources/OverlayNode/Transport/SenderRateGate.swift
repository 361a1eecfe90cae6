import Foundation

/// The per-sender rate limit of the shell's receive path: a token bucket per sender, applied
/// as each datagram is read from the socket, before the queue to the agent.
///
/// The agent's own limit (``OverlayCore/RateLimiter``, in ``OverlayCore/DatagramCodec``) already
/// keeps a flooding member from costing signature checks, but it sits behind the 4,096-datagram
/// receive queue: one admitted key sending 50,000 validly shaped datagrams a second filled that
/// queue, the members' own probes and acks were dropped with the flood, and the flooded node
/// was marked failed by the others (`FloodTests`). This gate refuses the flood before the
/// queue, so what the members send still reaches the agent.
///
/// A datagram's sender is read from its envelope without verification (the public key in
/// field 2, as the agent would read it) and used as the key when the keyring admits it; junk,
/// and a datagram naming a key outside the keyring (made up, so that each would get a fresh
/// bucket), is keyed by its source address and port. The limit is the agent's (`security.sender_rate_per_second` and `sender_burst`), so a
/// sender within it loses nothing here that the agent would have taken. As with the agent's
/// limit, a datagram that claims another member's key spends that member's tokens: the gate
/// saves the node's queue and CPU, not the claimed sender's share. Drops are counted as
/// `overlayd_datagrams_dropped_total{stage="sender_rate"}`.
struct SenderRateGate: Sendable {
    /// Whom a bucket belongs to.
    enum Key: Hashable, Sendable {
        /// The public key a datagram names as its sender.
        case sender(Data)
        /// The source address of a datagram that names none.
        case address(String, Int)
    }

    private struct Bucket: Sendable {
        var tokens: Double
        var updatedNanoseconds: UInt64
    }

    /// Datagrams per second one sender may sustain.
    let ratePerSecond: Double
    /// Datagrams one sender may send in a burst.
    let burst: Double
    /// The most senders tracked at once. Beyond it the buckets of senders idle long enough to
    /// be full again are forgotten (they lose nothing by it), and if none is, all are: memory
    /// stays bounded whatever keys or addresses a flood makes up, at worst at the price of
    /// one fresh burst each.
    let maxTracked: Int
    private var buckets: [Key: Bucket] = [:]

    /// Creates a gate. `maxTracked` default 4,096: a cloud's members several times over.
    init(ratePerSecond: Double, burst: Double, maxTracked: Int = 4_096) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.maxTracked = max(1, maxTracked)
    }

    /// The number of senders tracked now.
    var trackedCount: Int { buckets.count }

    /// Takes one token from `key`'s bucket at monotonic time `now` (nanoseconds); `false` if
    /// the bucket is empty and the datagram is to be dropped.
    mutating func admit(_ key: Key, nowNanoseconds now: UInt64) -> Bool {
        var bucket = buckets[key] ?? Bucket(tokens: burst, updatedNanoseconds: now)
        let elapsed = Double(now &- min(now, bucket.updatedNanoseconds)) / 1e9
        bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
        bucket.updatedNanoseconds = now
        let admitted = bucket.tokens >= 1
        if admitted { bucket.tokens -= 1 }
        if buckets[key] == nil, buckets.count >= maxTracked { forgetIdle(now: now) }
        buckets[key] = bucket
        return admitted
    }

    private mutating func forgetIdle(now: UInt64) {
        buckets = buckets.filter { Double(now &- min(now, $0.value.updatedNanoseconds)) / 1e9 * ratePerSecond + $0.value.tokens < burst }
        if buckets.count >= maxTracked { buckets.removeAll(keepingCapacity: true) }
    }

    /// The key of a datagram: the sender its envelope names (a 32-byte field 2 among its first
    /// fields, read without decoding the rest) if `admitted` holds it, or else its source
    /// address. `admitted` `nil`: any named sender.
    static func key(of datagram: UnsafeRawBufferPointer, host: String, port: Int, admitted: Set<Data>? = nil) -> Key {
        if let sender = senderField(datagram), admitted?.contains(sender) ?? true { return .sender(sender) }
        return .address(host, port)
    }

    /// Scans the envelope's leading fields (varints and length-delimited) for field 2 with 32
    /// bytes; `nil` for anything else, including truncated or malformed bytes.
    static func senderField(_ bytes: UnsafeRawBufferPointer) -> Data? {
        var position = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.count, shift < 64 {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        for _ in 0..<4 {
            guard let tag = varint() else { return nil }
            switch tag & 7 {
            case 0:
                guard varint() != nil else { return nil }
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - position) else { return nil }
                if tag >> 3 == 2 {
                    return length == 32 ? Data(bytes[position..<position + 32]) : nil
                }
                position += Int(length)
            default:
                return nil
            }
        }
        return nil
    }
}
