import Foundation
import Testing

@testable import OverlayNode

/// The one table of config keys: the docs, the renderer, the reader and the flags all follow it.
@Suite struct ConfigSchemaTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func configurationDocMatchesTheTable() throws {
        let path = Self.root.appendingPathComponent("Docs/configuration.md").path
        let document = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            ConfigDoc.updated(document: document) == document,
            "Docs/configuration.md is out of date; run: overlayd config-keys --update-doc Docs/configuration.md")
        let tables = ConfigDoc.blocks(in: document)
        #expect(Set(tables) == Set(ConfigSchema.tables + ["gateways.gateway", "flags"]))
        for spec in ConfigSchema.specs {
            #expect(document.contains("| `\(spec.name)` | \(spec.type.documentedType) |"), "\(spec.dotted) has no row")
        }
    }

    @Test func everyKeyIsDeclaredOnce() {
        let names = ConfigSchema.specs.map(\.dotted)
        #expect(Set(names).count == names.count)
        let flags = ConfigSchema.specs.compactMap(\.flag)
        #expect(Set(flags).count == flags.count)
        for spec in ConfigSchema.specs {
            #expect(!spec.doc.isEmpty && spec.doc.hasSuffix("."), "\(spec.dotted) needs a doc sentence")
        }
    }

    /// A literal default is what the renderer writes for a default configuration.
    @Test func literalDefaultsAreTheRenderedDefaults() throws {
        var defaults = NodeConfiguration()
        defaults.name = "n"
        let text = ConfigFile.render(defaults)
        for entry in ConfigSchema.entries {
            guard case .literal(let literal) = entry.spec.defaultValue else { continue }
            let line = entry.renderedLine(defaults)
            #expect(line == "\(entry.spec.name) = \(literal)" || line == "# \(entry.spec.name) = \(literal)",
                    "\(entry.spec.dotted): documented \(literal), rendered \(line ?? "nothing")")
            #expect(text.contains(line ?? "\u{0}"))
        }
    }

    /// Every range is enforced by the reader: one value past each end of every integer and number key.
    @Test func everyRangeIsEnforced() throws {
        for spec in ConfigSchema.specs(in: "membership") + ConfigSchema.specs(in: "security") + ConfigSchema.specs(in: "gateways") {
            let outside: [String]
            switch spec.type {
            case .integer(let range, _): outside = ["\(range.lowerBound - 1)", "\(range.upperBound + 1)"]
            case .number(let range, _, let above):
                outside = [above ? "\(range.lowerBound)" : "\(range.lowerBound - 0.05)", "\(range.upperBound + 1)"]
            default: continue
            }
            for value in outside {
                #expect(throws: ConfigError.self, "\(spec.dotted) = \(value) was accepted") {
                    _ = try ConfigFile.parse(text: "[\(spec.table)]\n\(spec.name) = \(value)\n", source: "t.toml")
                }
            }
        }
    }

    @Test func probeBudgetIsReadWithItsRange() throws {
        #expect(NodeConfiguration().gateways.probeBudget == 0.25)
        let config = try ConfigFile.parse(text: "[gateways]\nprobe_budget = 0.5\n", source: "t.toml")
        #expect(config.gateways.probeBudget == 0.5)
        #expect(config.gateways.gossipSettings(local: nil).selector.probeBudget == 0.5, "the selector spends what the key says")
        let zero = #expect(throws: ConfigError.self) {
            _ = try ConfigFile.parse(text: "[gateways]\nprobe_budget = 0\n", source: "t.toml")
        }
        #expect(zero?.description == "t.toml: gateways.probe_budget is 0.0, but it must be above 0 and at most 3 probes/node/round; write probe_budget = 0.25 under [gateways].")
    }

    @Test func flagHelpAndFlagsComeFromTheTable() throws {
        let overrides = ConfigOverrides(metricsAddress: "127.0.0.1:9946")
        let config = try overrides.applied(to: ConfigFile.parse(text: "[network]\nadvertise = \"10.0.0.1:7946\"\n", source: "t.toml"))
        #expect(config.metricsAddress?.description == "127.0.0.1:9946")
        for (flag, _) in ConfigOverrides().flagValues {
            #expect(ConfigSchema.spec(flag: flag) != nil, "\(flag) is not declared")
        }
        #expect(ConfigSchema.spec(flag: "--bind")?.summary == "The UDP address to listen on.")
    }
}
