import Foundation
import OverlayAPI

/// Where the daemon's API socket is, as overlayctl and other local tools decide it.
public enum LocalAPISocket {
    /// The environment variable that names the socket when no `--socket` option is given.
    public static let environmentVariable = "OVERLAYD_SOCKET"

    /// The path used when neither the option nor the environment names one.
    public static let defaultPath = APISchema.defaultSocketPath

    /// Resolves the socket path: the `--socket` option, else `$OVERLAYD_SOCKET`, else
    /// ``defaultPath``. An empty option or variable counts as absent.
    ///
    /// - Parameters:
    ///   - option: the value of `--socket`, if given.
    ///   - environment: the process environment (a parameter so tests can pass their own).
    /// - Returns: the path to connect to.
    public static func resolve(
        option: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let option, !option.isEmpty { return option }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        return defaultPath
    }
}
