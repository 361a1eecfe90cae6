import Foundation

/// One libFuzzer target: the decoder it feeds the fuzzer's bytes to, and the seed inputs it
/// starts from (made with the project's own encoders, so the fuzzer begins from valid input).
///
/// A target's ``run`` must never crash, hang or grow memory without bound on any input: every
/// decoder answers bad input with an error or a rejection, which the target discards.
public struct FuzzTarget: Sendable {
    /// The target's name: the binary is `fuzz-<name>`, its corpus `<name>/`.
    public let name: String
    /// What the target exercises, one line for `ops/fuzz --list`.
    public let summary: String
    /// Seed inputs, valid or nearly so.
    public let seeds: @Sendable () -> [Data]
    /// Feeds one input to the decoder under test.
    public let run: @Sendable (Data) -> Void

    /// Creates a target.
    public init(name: String, summary: String, seeds: @escaping @Sendable () -> [Data], run: @escaping @Sendable (Data) -> Void) {
        self.name = name
        self.summary = summary
        self.seeds = seeds
        self.run = run
    }
}

/// Every fuzz target, and what an entry point (`Fuzz/Entries/<name>.swift`) calls.
public enum FuzzTargets {
    /// All targets, in the order `ops/fuzz` runs them.
    public static let all: [FuzzTarget] = [
        DatagramTarget.target,
        PacketTarget.target,
    ] + ItemTargets.all + HopTargets.all + [
        ConfigTarget.target,
        KeyringTarget.target,
        APIRequestTarget.target,
        APIResponseTarget.target,
    ]

    /// The target called `name`; stops the process with a message for an unknown one.
    public static func named(_ name: String) -> FuzzTarget {
        guard let target = all.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("no fuzz target called \(name)\n".utf8))
            exit(2)
        }
        return target
    }

    /// Called from `LLVMFuzzerInitialize`. With `FUZZ_WRITE_SEEDS=DIR` in the environment it
    /// writes the target's seeds into DIR (`seed-N`, N from 1) and exits, so `ops/fuzz` can make
    /// the seed corpus from the same binary it then runs; otherwise it does nothing.
    public static func prepare(_ name: String) {
        let target = named(name)
        guard let directory = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"] else { return }
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (index, seed) in target.seeds().enumerated() {
                try seed.write(to: folder.appendingPathComponent("seed-\(index + 1)"))
            }
        } catch {
            FileHandle.standardError.write(Data("cannot write the seeds of \(name) to \(directory): \(error)\n".utf8))
            exit(1)
        }
        exit(0)
    }

    /// Called from `LLVMFuzzerTestOneInput` with the fuzzer's bytes.
    public static func run(_ target: FuzzTarget, _ bytes: UnsafePointer<UInt8>?, _ count: Int) {
        let data = bytes.map { Data(bytes: $0, count: count) } ?? Data()
        target.run(data)
    }
}
