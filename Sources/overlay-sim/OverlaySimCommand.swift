import ArgumentParser

/// `overlay-sim`: the deterministic simulator of overlayd's core.
@main
struct OverlaySimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay-sim",
        abstract: "Run overlayd's real core on a simulated mesh: gateway selection, scale, chaos and churn soaks.",
        discussion: "Every run is a function of its --seed. See Docs/results.md for the figures and how to regenerate them.",
        subcommands: [RimoCommand.self, ScaleCommand.self, ChaosCommand.self, SoakCommand.self])
}
