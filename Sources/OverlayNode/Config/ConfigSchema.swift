import Foundation

/// The declaration of one config key: where it lives, its type and range, its default, the
/// sentence that documents it and the flag that overrides it.
///
/// Declared once, in ``ConfigSchema``, and used for everything that concerns the key: the
/// reader checks type and range from ``type`` before the key's own rule runs, the renderer
/// writes it, the shape check knows it, `overlayd config-keys` prints it, the `overlayd` flags
/// take their help from it, and `Docs/configuration.md` has one row per key generated from it
/// (a test compares the two).
public struct ConfigKeySpec: Sendable, Hashable {
    /// The table, such as `membership` (`gateways.gateway` for a `[[gateways.gateway]]` entry).
    public let table: String
    /// The key within the table, such as `probe_interval_ms`.
    public let name: String
    /// The TOML type and the range of values accepted.
    public let type: ConfigValueType
    /// The default as the documentation states it: a TOML literal, or a phrase for a default
    /// that depends on something else (the host name, the preset, the state directory).
    public let defaultValue: ConfigDefault
    /// An example value as a TOML literal, suggested in error messages.
    public let example: String
    /// The command-line flag that replaces the key, if any (`--bind`).
    public let flag: String?
    /// What the key does and why its default is what it is: the documentation's row.
    public let doc: String

    /// The key as `table.name`.
    public var dotted: String { "\(table).\(name)" }

    /// The first sentence of ``doc``, for `--help`.
    public var summary: String {
        guard let end = doc.range(of: ". ") else { return doc }
        return String(doc[..<end.lowerBound]) + "."
    }
}

/// A default as documented.
public enum ConfigDefault: Sendable, Hashable {
    /// A TOML literal that the renderer writes for a default configuration (checked by a test).
    case literal(String)
    /// Depends on something else; the phrase says on what.
    case derived(String)
    /// No default: the key must be written when its table is.
    case required

    /// The documentation's cell.
    public var documented: String {
        switch self {
        case .literal(let text): "`\(text)`"
        case .derived(let text): text
        case .required: "**required**"
        }
    }
}

/// A unit of a number, as the documentation abbreviates it and as messages spell it out.
public struct ConfigUnit: Sendable, Hashable {
    /// The documentation's form, such as `ms`.
    public let short: String
    /// The form used in messages, such as `milliseconds`.
    public let words: String

    /// Milliseconds (keys ending in `_ms`).
    public static let milliseconds = ConfigUnit(short: "ms", words: "milliseconds")
    /// Seconds (keys ending in `_s`).
    public static let seconds = ConfigUnit(short: "s", words: "seconds")
    /// A unit written the same in both places (`bytes`, `hops`, `clients`, `nodes`).
    public static func plain(_ name: String) -> ConfigUnit { ConfigUnit(short: name, words: name) }
}

/// The TOML type of a key with the values it accepts; the reader checks both.
public enum ConfigValueType: Sendable, Hashable {
    /// A string; `what` describes it in the docs (`path`, `` `host:port` ``), `rule` states the
    /// range the key's own check enforces, or `nil` when any string will do.
    case string(what: String, rule: String?)
    /// One of a fixed set of strings, the first of which is not necessarily the default.
    case choice([String], noun: String)
    /// An array of strings.
    case strings(what: String, rule: String?)
    /// A whole number within a closed range.
    case integer(ClosedRange<Int>, unit: ConfigUnit?)
    /// A number (integers accepted) within a range; `aboveLower` excludes the lower bound.
    case number(ClosedRange<Double>, unit: ConfigUnit?, aboveLower: Bool)
    /// An array of tables (`[[gateways.gateway]]`), whose keys are declared apart.
    case tables(String)

    /// The documentation's type cell.
    public var documentedType: String {
        switch self {
        case .string(let what, _): what
        case .choice: "string"
        case .strings(let what, _): "array of \(what)"
        case .integer(_, let unit): unit.map { "integer, \($0.short)" } ?? "integer"
        case .number(_, let unit, _): unit.map { "number, \($0.short)" } ?? "number"
        case .tables(let what): "array of tables: \(what)"
        }
    }

    /// The documentation's range cell.
    public var documentedRange: String {
        switch self {
        case .string(_, let rule), .strings(_, let rule): rule ?? "any"
        case .choice(let names, _): names.map { "`\($0)`" }.joined(separator: ", ")
        case .integer(let range, _): "\(range.lowerBound)-\(range.upperBound)"
        case .number(let range, _, let above):
            above
                ? "above \(ConfigCheck.plain(range.lowerBound)), at most \(ConfigCheck.plain(range.upperBound))"
                : "\(ConfigCheck.plain(range.lowerBound))-\(ConfigCheck.plain(range.upperBound))"
        case .tables: "see below"
        }
    }
}

/// A value as read from the file or a flag, after its type and range were checked.
enum ConfigValue: Sendable, Equatable {
    case string(String)
    case strings([String])
    case integer(Int)
    case number(Double)

    var string: String {
        if case .string(let text) = self { return text }
        preconditionFailure("\(self) is not a string")
    }
    var strings: [String] {
        if case .strings(let texts) = self { return texts }
        preconditionFailure("\(self) is not an array of strings")
    }
    var integer: Int {
        if case .integer(let number) = self { return number }
        preconditionFailure("\(self) is not an integer")
    }
    var number: Double {
        if case .number(let number) = self { return number }
        preconditionFailure("\(self) is not a number")
    }
}

/// How the renderer writes one key.
enum RenderedValue: Sendable, Equatable {
    /// `name = literal`: the operator set it (or it has a plain default).
    case set(String)
    /// `# name = literal`: the value in force comes from elsewhere (a preset, the state directory).
    case inForce(String)
    /// `# name: note`: nothing to write, only to say.
    case note(String)
    /// Nothing at all (an optional key left out).
    case omitted
}

/// A key's declaration with what reads it into, and writes it from, a target value.
///
/// `Target` is ``NodeConfiguration`` for the plain tables, and a draft of one gateway for the
/// `[[gateways.gateway]]` and `[gateway]` sections.
struct ConfigEntry<Target>: Sendable {
    /// The declaration.
    let spec: ConfigKeySpec
    /// Applies a value whose type and range were checked; runs the key's own rule, which may throw.
    let assign: @Sendable (ConfigValue, ConfigOrigin, inout Target) throws -> Void
    /// The value in force, for ``ConfigFile/render(_:)``.
    let render: @Sendable (Target) -> RenderedValue

    /// The key as used in messages.
    var key: ConfigKey { ConfigKey(spec.table, spec.name, example: spec.example, flag: spec.flag) }

    /// Reads this key from `reader` (checking its type and range) and applies it to `target`.
    /// - Parameter table: the table named in messages, when it is not the declared one
    ///   (`gateways.gateway[2]`).
    func read(from reader: TableReader, into target: inout Target, table: String? = nil) throws {
        let key = table.map { ConfigKey($0, spec.name, example: spec.example) } ?? self.key
        guard let value = try reader.value(of: key, type: spec.type) else { return }
        try assign(value, reader.origin, &target)
    }

    /// Applies a flag's text: a string, each repetition of a repeatable flag, or a number.
    func apply(flag text: [String], into target: inout Target) throws {
        let origin = ConfigOrigin.flag(spec.flag ?? spec.dotted)
        let value: ConfigValue
        switch spec.type {
        case .string, .choice:
            guard let only = text.last else { return }
            value = try TableReader.check(.string(only), key, spec.type, origin)
        case .strings:
            value = .strings(text)
        case .integer:
            guard let only = text.last else { return }
            guard let number = Int(only) else {
                throw ConfigError.invalid(.wrongType, origin, key, problem: "has \"\(only)\", which is not a whole number")
            }
            value = .integer(number)
            try TableReader.check(value, key, spec.type, origin)
        case .number:
            guard let only = text.last else { return }
            guard let number = Double(only) else {
                throw ConfigError.invalid(.wrongType, origin, key, problem: "has \"\(only)\", which is not a number")
            }
            value = .number(number)
            try TableReader.check(value, key, spec.type, origin)
        case .tables:
            preconditionFailure("\(spec.dotted) has no flag")
        }
        try assign(value, origin, &target)
    }

    /// The line (or nothing) that writes this key.
    func renderedLine(_ target: Target) -> String? {
        switch render(target) {
        case .set(let literal): "\(spec.name) = \(literal)"
        case .inForce(let literal): "# \(spec.name) = \(literal)"
        case .note(let text): "# \(spec.name): \(text)"
        case .omitted: nil
        }
    }
}

extension ConfigEntry {
    /// Declares a key.
    init(
        _ table: String, _ name: String, _ type: ConfigValueType, default defaultValue: ConfigDefault,
        example: String, flag: String? = nil, doc: String,
        assign: @escaping @Sendable (ConfigValue, ConfigOrigin, inout Target) throws -> Void,
        render: @escaping @Sendable (Target) -> RenderedValue
    ) {
        self.spec = ConfigKeySpec(
            table: table, name: name, type: type, defaultValue: defaultValue, example: example, flag: flag, doc: doc)
        self.assign = assign
        self.render = render
    }
}
