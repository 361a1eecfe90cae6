/// A token bucket per sender, checked before any signature is verified.
///
/// An admitted member that floods (a bug, or a stolen key) cannot make a node spend all its CPU
/// on Ed25519 verification: once its bucket is empty its datagrams are dropped and counted as
/// ``RejectReason/rateLimited``. The defaults are far above what SWIM sends (see
/// ``AdmissionSettings``).
public struct RateLimiter: Sendable {
    struct Bucket: Sendable {
        var tokens: Double
        var updated: Instant
    }

    /// Datagrams per second a sender may sustain.
    public let ratePerSecond: Double
    /// Datagrams a sender may send in one burst.
    public let burst: Double
    private var buckets: [NodeID: Bucket] = [:]

    /// Creates a limiter.
    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = burst
    }

    /// Takes one token from `sender`'s bucket; returns `false` if it is empty.
    public mutating func admit(_ sender: NodeID, now: Instant) -> Bool {
        var bucket = buckets[sender] ?? Bucket(tokens: burst, updated: now)
        let elapsed = max(0, (now - bucket.updated).seconds)
        bucket.tokens = min(burst, bucket.tokens + elapsed * ratePerSecond)
        bucket.updated = now
        guard bucket.tokens >= 1 else {
            buckets[sender] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[sender] = bucket
        return true
    }
}
