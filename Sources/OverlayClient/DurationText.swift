/// Short, human forms of durations for tables: `0.4s`, `12s`, `5m12s`, `2h05m`, `3d04h`.
public enum DurationText {
    /// Formats a number of seconds in at most two units.
    ///
    /// Below 10 s one decimal is kept (`0.4s`); below a minute whole seconds (`12s`); above, the
    /// two largest units, the second zero-padded (`5m07s`, `2h05m`, `3d04h`).
    /// - Parameter seconds: the duration; negative values read as zero.
    /// - Returns: the short form.
    public static func format(seconds: Double) -> String {
        let seconds = seconds.isFinite ? max(0, seconds) : 0
        let tenths = Int((seconds * 10).rounded())
        if tenths < 100 { return "\(tenths / 10).\(tenths % 10)s" }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(padded(whole % 60))s" }
        if whole < 86400 { return "\(whole / 3600)h\(padded(whole % 3600 / 60))m" }
        return "\(whole / 86400)d\(padded(whole % 86400 / 3600))h"
    }

    /// Formats a round trip given in milliseconds: `12.5ms` below 100 ms, `153ms` below a
    /// second, `1.2s` above.
    ///
    /// - Parameter milliseconds: the round trip.
    /// - Returns: the short form.
    public static func format(milliseconds: Double) -> String {
        let milliseconds = milliseconds.isFinite ? max(0, milliseconds) : 0
        let tenths = Int((milliseconds * 10).rounded())
        if tenths < 1000 { return "\(tenths / 10).\(tenths % 10)ms" }
        let whole = Int(milliseconds.rounded())
        if whole < 1000 { return "\(whole)ms" }
        return format(seconds: milliseconds / 1000)
    }

    private static func padded(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
