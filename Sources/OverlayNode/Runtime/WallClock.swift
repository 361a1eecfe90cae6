import Foundation
import OverlayCore

/// The shell's only clock: Unix time in milliseconds, handed to the core as `now`.
public enum WallClock {
    /// The current wall-clock time.
    public static func now() -> Instant {
        Instant(milliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
    }
}
