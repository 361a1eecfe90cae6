import Foundation

/// Writing result files and reporting run time (the only wall-clock reads of the simulator,
/// kept out of everything a run computes, and printed to standard error so that standard
/// output stays the same byte for byte for the same seed).
enum Output {
    /// Writes `text` to `directory/name`, creating the directory.
    static func write(_ text: String, to directory: String, name: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(name)
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationErrorMessage("could not write \(path): \(error.localizedDescription); check that --out names a writable directory")
        }
        print("wrote \(path)")
    }

    /// Prints a line to standard error (progress and wall-clock figures, which vary between
    /// runs and so stay out of standard output).
    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a progress line to standard error.
    static func progress(_ text: String) { stderr(text) }

    /// Prints the wall-clock time since `start` to standard error.
    static func reportRunTime(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        FileHandle.standardError.write(Data("run time: \(String(format: "%.1f", elapsed.seconds)) s\n".utf8))
    }
}

/// An error whose description is one sentence for the user.
struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
