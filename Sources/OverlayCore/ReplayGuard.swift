/// Per-sender replay protection for datagrams.
///
/// Each sender numbers its datagrams `(session, sequence)`: the session is its start time in
/// Unix ms (kept strictly increasing across restarts), the sequence counts from 1. A receiver
/// keeps, per sender, the newest session and a 64-datagram sliding window (as IPsec's
/// anti-replay window, RFC 4303 section 3.4.3), so reordered datagrams are still accepted but
/// every duplicate and every datagram of an older session is refused.
///
/// Memory is bounded by the keyring: only admitted senders get an entry, and only after their
/// signature verified.
public struct ReplayGuard: Sendable {
    struct Window: Sendable {
        var session: UInt64
        var highest: UInt64
        /// Bit `i` set: `highest - i` was seen.
        var seen: UInt64
    }

    /// The width of the sliding window, in datagrams.
    public static let windowSize: UInt64 = 64
    private var windows: [NodeID: Window] = [:]

    /// Creates an empty guard.
    public init() {}

    /// Whether a datagram would be accepted, without recording it.
    ///
    /// Called before the signature check; ``record(sender:session:sequence:)`` commits it after,
    /// so a forged datagram can never advance a window.
    public func isFresh(sender: NodeID, session: UInt64, sequence: UInt64) -> Bool {
        guard sequence > 0 else { return false }
        guard let window = windows[sender] else { return true }
        if session != window.session { return session > window.session }
        if sequence > window.highest { return true }
        let age = window.highest - sequence
        guard age < Self.windowSize else { return false }
        return window.seen & (1 << age) == 0
    }

    /// Records a verified datagram as seen.
    public mutating func record(sender: NodeID, session: UInt64, sequence: UInt64) {
        guard var window = windows[sender], window.session == session else {
            windows[sender] = Window(session: session, highest: sequence, seen: 1)
            return
        }
        if sequence > window.highest {
            let shift = sequence - window.highest
            window.seen = shift >= Self.windowSize ? 1 : (window.seen << shift) | 1
            window.highest = sequence
        } else {
            window.seen |= 1 << (window.highest - sequence)
        }
        windows[sender] = window
    }

    /// Forgets a sender (for example when its key leaves the keyring).
    public mutating func forget(_ sender: NodeID) { windows[sender] = nil }
}
