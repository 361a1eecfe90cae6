import OverlayCore

/// A key change an operator asks for (`overlayctl keys add|roll|retire|revoke`).
public enum KeyChange: Sendable, Equatable {
    /// Lists a key in this node's keyring file (or replaces its line) and reloads it.
    case add(Keyring.Entry)
    /// Rolls this node's key, keeping the old one admitted for the overlap.
    case roll(overlap: Duration)
    /// Ends a listed key's validity on this node.
    case retire(NodeID)
    /// Revokes a key cloud-wide, signed by this node's key.
    case revoke(NodeID)
}

/// Why a key change was refused, in one sentence (HTTP 422, `key_refused`).
public struct KeyChangeRefused: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sentence.
    public let description: String
    /// Creates a refusal.
    public init(description: String) { self.description = description }
}
