import Foundation
import Logging
import OverlayCore
import TOMLKit

/// Reads, checks and writes `overlayd`'s TOML config file.
///
/// Every key is documented in `Docs/configuration.md`; `Examples/overlayd.toml` is a complete
/// file. The reader is strict: an unknown table or key, a value of the wrong type, or a value out
/// of range is an error (a typo must not silently leave a default in force), reported as a
/// ``ConfigError`` whose description is one sentence naming the file, the dotted key and what to
/// write instead.
public enum ConfigFile {
    /// The file read when `--config` is not given, if it exists: ``ConfigDefaults/configPath``.
    public static let defaultPath = ConfigDefaults.configPath

    /// Reads and checks the config file at `path`, which must exist.
    ///
    /// The result is not yet complete: call ``ConfigOverrides/applied(to:)`` (with or without
    /// flags) or use ``resolve(path:overrides:defaultPath:)``, which also checks what may come
    /// from either place, such as `network.advertise`.
    ///
    /// - Parameter path: the file, as the operator named it (it appears in error messages).
    /// - Returns: the defaults with the file's keys applied.
    /// - Throws: ``ConfigError`` when the file is missing, unreadable, not TOML, or has a bad key.
    public static func load(path: String) throws -> NodeConfiguration {
        try parse(text: read(path: path), source: path)
    }

    /// Reads and checks the config file at `path` if it exists.
    ///
    /// - Parameter path: usually ``ConfigDefaults/configPath``.
    /// - Returns: `nil` when there is no file at `path`.
    /// - Throws: ``ConfigError`` when the file exists but cannot be read or has a bad key.
    public static func loadIfPresent(path: String) throws -> NodeConfiguration? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try load(path: path)
    }

    /// The configuration in force: defaults, then a config file, then the command-line flags,
    /// validated as a whole.
    ///
    /// - Parameters:
    ///   - path: the file given with `--config`, which must exist; `nil` when not given.
    ///   - overrides: the command-line flags.
    ///   - defaultPath: read instead when `path` is `nil`, if it exists; `nil` reads no file.
    /// - Returns: a configuration ready to start a node.
    /// - Throws: ``ConfigError``, one sentence naming the file or flag and the key.
    public static func resolve(
        path: String?, overrides: ConfigOverrides = ConfigOverrides(),
        defaultPath: String? = ConfigDefaults.configPath
    ) throws -> NodeConfiguration {
        var base = NodeConfiguration()
        if let path {
            base = try load(path: path)
        } else if let defaultPath, let found = try loadIfPresent(path: defaultPath) {
            base = found
        }
        return try overrides.applied(to: base)
    }

    /// Parses and checks a config document.
    ///
    /// - Parameters:
    ///   - text: the TOML document.
    ///   - source: where it came from (a path), named in error messages and kept in
    ///     ``NodeConfiguration/source``.
    /// - Returns: the defaults with the document's keys applied.
    /// - Throws: ``ConfigError`` for a syntax error (with line and column), an unknown table or
    ///   key, a value of the wrong type, or a value out of range.
    public static func parse(text: String, source: String) throws -> NodeConfiguration {
        let origin = ConfigOrigin.file(source)
        let root: TOMLTable
        try TableHeaderCheck.check(text, source: source)
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError.syntax(source: source, line: error.source.begin.line,
                                     column: error.source.begin.column, detail: error.description)
        }
        let tables = try checkShape(root, origin)

        var config = NodeConfiguration()
        config.source = source
        for entry in ConfigSchema.entries {
            try entry.read(from: TableReader(table: tables[entry.spec.table], origin: origin), into: &config)
        }
        try GatewayConfigReader.read(tables, origin, into: &config)

        try ConfigCheck.membershipTimings(config, origin)
        return config
    }

    /// Writes `configuration` as a config document that ``parse(text:source:)`` reads back to
    /// an equal value (apart from ``NodeConfiguration/source``).
    ///
    /// Keys left at a derived default (`network.advertise`, `network.keyring`, membership keys
    /// taken from the preset) are written as comments showing the value in force, so the output
    /// also serves as `overlayd`'s "show me the effective config".
    ///
    /// - Parameter configuration: the settings to write.
    /// - Returns: a TOML document.
    public static func render(_ configuration: NodeConfiguration) -> String {
        var lines = ["# overlayd configuration; every key is described in Docs/configuration.md."]
        for table in ConfigSchema.tables where table != "gateway" {
            lines += ["", "[\(table)]"]
            lines += ConfigSchema.entries.filter { $0.spec.table == table }.compactMap { $0.renderedLine(configuration) }
        }
        lines += GatewayConfigReader.renderSections(configuration)
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Reading

    static func read(path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError.file(
                .missingFile, path: path,
                "The config file \(path) does not exist; create it (Examples/overlayd.toml is a complete example) or pass the right path with --config.")
        }
        if isDirectory.boolValue {
            throw ConfigError.file(
                .unreadableFile, path: path,
                "The config file \(path) is a directory; pass the path of a TOML file with --config.")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError.file(
                .unreadableFile, path: path,
                "The config file \(path) cannot be read; make it readable by the user overlayd runs as (for example chmod 0644 \(path)).")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError.file(
                .unreadableFile, path: path, "The config file \(path) is not UTF-8 text; save it as UTF-8.")
        }
        return text
    }

    /// Rejects unknown tables, unknown keys and tables of the wrong type; returns the known tables.
    static func checkShape(_ root: TOMLTable, _ origin: ConfigOrigin) throws -> [String: TOMLTable] {
        var tables: [String: TOMLTable] = [:]
        for name in root.keys {
            guard let value = root[name] else { continue }
            if ConfigKeys.tables.contains(name) {
                guard let table = value.table else {
                    throw ConfigError.invalid(
                        .wrongType, origin, key: name,
                        problem: "must be a table, not \(ConfigCheck.article(value.type))",
                        instead: "write it as a section header [\(name)] followed by its keys, one per line")
                }
                tables[name] = table
            } else if let home = ConfigKeys.all.first(where: { $0.name == name }) {
                throw ConfigError.invalid(
                    .unknownKey, origin, key: name, problem: "is not a known top-level key",
                    instead: "move it under [\(home.table)], where it is \(home.dotted)")
            } else if value.type == .table {
                let guess = ConfigCheck.closest(to: name, in: ConfigKeys.tables)
                throw ConfigError.invalid(
                    .unknownTable, origin, key: name, display: "[\(name)]", problem: "is not a known table",
                    instead: (guess.map { "write [\($0)] instead (" } ?? "remove it (")
                        + "the tables are \(ConfigKeys.tables.map { "[\($0)]" }.joined(separator: ", ")))")
            } else {
                throw ConfigError.invalid(
                    .unknownKey, origin, key: name, problem: "is not a known key",
                    instead: "keys go under one of the tables \(ConfigKeys.tables.map { "[\($0)]" }.joined(separator: ", ")) (see Docs/configuration.md)")
            }
        }
        for table in ConfigKeys.tables {
            guard let contents = tables[table] else { continue }
            let known = ConfigKeys.all.filter { $0.table == table }.map(\.name)
            for name in contents.keys where !known.contains(name) {
                let dotted = "\(table).\(name)"
                let instead: String
                if let guess = ConfigCheck.closest(to: name, in: known) {
                    instead = "write \(table).\(guess) instead (Docs/configuration.md lists every key)"
                } else if let home = ConfigKeys.all.first(where: { $0.name == name }) {
                    instead = "move it under [\(home.table)], where it is \(home.dotted)"
                } else {
                    instead = "remove it (the keys of [\(table)] are \(known.joined(separator: ", ")))"
                }
                throw ConfigError.invalid(.unknownKey, origin, key: dotted, problem: "is not a known key", instead: instead)
            }
        }
        return tables
    }

    // MARK: Writing

    static func tomlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04X", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func tomlNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : "\(value)"
    }
}

/// A config file or command-line value that `overlayd` cannot use.
///
/// ``description`` is one sentence for the operator: it names the file (or the flag), the
/// dotted key, what is wrong and what to write instead, for example
/// `/etc/overlayd/overlayd.toml: membership.probe_interval_ms is 0, but it must be between 1 and
/// 600000 milliseconds; write probe_interval_ms = 1000 under [membership].`
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is; new kinds may be added.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case missingFile, unreadableFile, syntax, unknownTable, unknownKey, wrongType, badValue, missingValue
        }
        private let base: Base

        /// A config file named explicitly does not exist.
        public static let missingFile = Kind(base: .missingFile)
        /// The config file exists but cannot be read as UTF-8 text.
        public static let unreadableFile = Kind(base: .unreadableFile)
        /// The file is not valid TOML.
        public static let syntax = Kind(base: .syntax)
        /// A table the daemon does not know.
        public static let unknownTable = Kind(base: .unknownTable)
        /// A key the daemon does not know (or a key outside its table).
        public static let unknownKey = Kind(base: .unknownKey)
        /// A value of the wrong TOML type.
        public static let wrongType = Kind(base: .wrongType)
        /// A value of the right type that cannot be used (out of range, unparseable, unknown name).
        public static let badValue = Kind(base: .badValue)
        /// A setting that has no usable default here and was not given.
        public static let missingValue = Kind(base: .missingValue)

        /// The kind's name, such as `unknownKey`.
        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// The file path, `the command line`, or `the built-in defaults`.
    public let source: String
    /// The dotted key concerned (`membership.probe_interval_ms`), or `nil` for file-level errors.
    public let key: String?
    /// The line of a syntax error, when known.
    public let line: Int?
    /// One sentence naming the source, the key and what to write instead.
    public let description: String

    static func file(_ kind: Kind, path: String, _ sentence: String) -> ConfigError {
        ConfigError(kind: kind, source: path, key: nil, line: nil, description: sentence)
    }

    static func syntax(source: String, line: Int, column: Int, detail: String) -> ConfigError {
        var detail = detail.trimmingCharacters(in: .whitespacesAndNewlines)
        while detail.hasSuffix(".") { detail.removeLast() }
        detail = detail.replacingOccurrences(of: "\n", with: " ")
        return ConfigError(
            kind: .syntax, source: source, key: nil, line: line,
            description: "\(source), line \(line), column \(column): this is not valid TOML (\(detail)); fix that line, writing each setting as key = value with strings in double quotes.")
    }

    /// An error about one key. `instead` says what to write; by default the key's example.
    static func invalid(
        _ kind: Kind, _ origin: ConfigOrigin, key: String, display: String? = nil, problem: String, instead: String
    ) -> ConfigError {
        let sentence: String
        let shown = display ?? key
        switch origin {
        case .file(let path): sentence = "\(path): \(shown) \(problem); \(instead)."
        case .flag(let flag): sentence = "The flag \(flag) (\(shown)) \(problem); \(instead)."
        case .defaults: sentence = "\(shown) \(problem); \(instead)."
        }
        return ConfigError(kind: kind, source: origin.sourceName, key: key, line: nil, description: sentence)
    }

    /// An error about one key, suggesting its example value in the form the origin takes.
    static func invalid(_ kind: Kind, _ origin: ConfigOrigin, _ key: ConfigKey, problem: String) -> ConfigError {
        invalid(kind, origin, key: key.dotted, problem: problem, instead: key.suggestion(for: origin))
    }
}

// MARK: - Internals shared with ConfigOverrides

/// Where a value came from, for error messages.
enum ConfigOrigin: Sendable, Equatable {
    /// A config file, by path.
    case file(String)
    /// A command-line flag, such as `--bind`.
    case flag(String)
    /// Neither: the built-in defaults.
    case defaults

    var sourceName: String {
        switch self {
        case .file(let path): path
        case .flag: "the command line"
        case .defaults: "the built-in defaults"
        }
    }
}

/// One config key: its table, name and an example value for error messages.
struct ConfigKey: Sendable, Hashable {
    /// The table, such as `membership`.
    let table: String
    /// The key within the table, such as `probe_interval_ms`.
    let name: String
    /// An example as a TOML literal, such as `1000` or `"0.0.0.0:7946"`.
    let example: String
    /// The flag that overrides the key, if any.
    let flag: String?

    init(_ table: String, _ name: String, example: String, flag: String? = nil) {
        self.table = table
        self.name = name
        self.example = example
        self.flag = flag
    }

    var dotted: String { "\(table).\(name)" }

    /// What to write instead, in the form of the origin.
    func suggestion(for origin: ConfigOrigin) -> String {
        switch origin {
        case .file: return "write \(name) = \(example) under [\(table)]"
        case .flag(let flag):
            let bare = example.hasPrefix("\"") ? String(example.dropFirst().dropLast()) : example
            return "pass for example \(flag) \(bare)"
        case .defaults: return "set \(name) = \(example) under [\(table)] in the config file"
        }
    }
}

/// Typed access to one table of the document, with errors naming the key.
struct TableReader {
    let table: TOMLTable?
    let origin: ConfigOrigin

    func value(_ key: ConfigKey) -> TOMLValueConvertible? { table?[key.name] }

    private func wrongType(_ key: ConfigKey, expected: String, got: TOMLType) -> ConfigError {
        ConfigError.invalid(.wrongType, origin, key, problem: "must be \(expected), not \(ConfigCheck.article(got))")
    }

    func string(_ key: ConfigKey) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.string else { throw wrongType(key, expected: "a string in double quotes", got: value.type) }
        return text
    }

    func strings(_ key: ConfigKey) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value.array else { throw wrongType(key, expected: "an array of strings", got: value.type) }
        return try array.map { element in
            guard let text = element.string else {
                throw ConfigError.invalid(
                    .wrongType, origin, key,
                    problem: "must contain only strings, but has \(ConfigCheck.article(element.type))")
            }
            return text
        }
    }

    /// Reads `key` as its declared type and checks its range; `nil` when the key is absent.
    func value(of key: ConfigKey, type: ConfigValueType) throws -> ConfigValue? {
        let value: ConfigValue
        switch type {
        case .string, .choice:
            guard let text = try string(key) else { return nil }
            value = .string(text)
        case .strings:
            guard let texts = try strings(key) else { return nil }
            value = .strings(texts)
        case .integer(_, let unit):
            guard let raw = self.value(key) else { return nil }
            let what = unit.map { "a whole number of \($0.words)" } ?? "a whole number"
            guard let number = raw.int else { throw wrongType(key, expected: what, got: raw.type) }
            value = .integer(number)
        case .number:
            guard let raw = self.value(key) else { return nil }
            guard let number = raw.double ?? raw.int.map(Double.init) else {
                throw wrongType(key, expected: "a number", got: raw.type)
            }
            value = .number(number)
        case .tables:
            return nil
        }
        return try Self.check(value, key, type, origin)
    }

    /// Checks a value of the right type against the range of `type`; returns it normalised
    /// (a choice in lower case).
    @discardableResult
    static func check(_ value: ConfigValue, _ key: ConfigKey, _ type: ConfigValueType, _ origin: ConfigOrigin) throws -> ConfigValue {
        switch (type, value) {
        case (.choice(let names, let noun), .string(let text)):
            guard let match = names.first(where: { $0 == text.lowercased() }) else {
                let list = names.map(ConfigCheck.quoted).joined(separator: ", ")
                throw ConfigError.invalid(
                    .badValue, origin, key, problem: "is \(ConfigCheck.quoted(text)), which is not a \(noun) (choose \(list))")
            }
            return .string(match)
        case (.integer(let range, let unit), .integer(let number)):
            guard range.contains(number) else {
                throw ConfigError.invalid(
                    .badValue, origin, key,
                    problem: "is \(number), but it must be between \(range.lowerBound) and \(range.upperBound)\(unit.map { " \($0.words)" } ?? "")")
            }
        case (.number(let range, let unit, let above), .number(let number)):
            guard range.contains(number), !(above && number == range.lowerBound) else {
                let bounds = above
                    ? "above \(ConfigCheck.plain(range.lowerBound)) and at most \(ConfigCheck.plain(range.upperBound))"
                    : "between \(ConfigCheck.plain(range.lowerBound)) and \(ConfigCheck.plain(range.upperBound))"
                throw ConfigError.invalid(
                    .badValue, origin, key,
                    problem: "is \(number), but it must be \(bounds)\(unit.map { " \($0.words)" } ?? "")")
            }
        default:
            break
        }
        return value
    }

}

/// The value rules, shared by the file reader and the command-line flags.
enum ConfigCheck {
    /// The kernel's host name limit; a name travels in every alive claim.
    static let maxNameBytes = 64
    /// `sizeof(sockaddr_un.sun_path) - 1` on Linux.
    static let maxSocketPathBytes = 107

    static func name(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        guard !text.isEmpty else { throw ConfigError.invalid(.badValue, origin, key, problem: "is empty") }
        guard text.utf8.count <= maxNameBytes else {
            throw ConfigError.invalid(
                .badValue, origin, key, problem: "is \(text.utf8.count) bytes long, but a name can have at most \(maxNameBytes)")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
              text.trimmingCharacters(in: .whitespaces) == text
        else {
            throw ConfigError.invalid(
                .badValue, origin, key, problem: "is \(quoted(text)), which has control characters or surrounding spaces")
        }
        return text
    }

    static func path(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ConfigError.invalid(.badValue, origin, key, problem: "is empty")
        }
        guard !text.contains("\0") else {
            throw ConfigError.invalid(.badValue, origin, key, problem: "contains a NUL character")
        }
        return text
    }

    static func socketPath(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        let path = try path(text, key, origin)
        guard path.utf8.count <= maxSocketPathBytes else {
            throw ConfigError.invalid(
                .badValue, origin, key,
                problem: "is \(path.utf8.count) bytes long, but a Unix socket path can have at most \(maxSocketPathBytes)")
        }
        return path
    }

    /// `host:port` or `[v6]:port`; `wildcard` says whether `0.0.0.0` and `[::]` are allowed.
    static func endpoint(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin, wildcard: Bool) throws -> PeerEndpoint {
        func fail(_ problem: String) -> ConfigError {
            ConfigError.invalid(.badValue, origin, key, problem: "has \(quoted(text)), \(problem)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":") else { throw fail("which is not host:port (the port is missing)") }
        var host = String(trimmed[..<colon])
        let portText = String(trimmed[trimmed.index(after: colon)...])
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber) else {
            throw fail("whose port \(quoted(portText)) is not a number")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw fail("whose port \(portText) is outside 1-65535")
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw fail("whose IPv6 address is not closed with ]") }
            host = String(host.dropFirst().dropLast())
            guard host.contains(":") else { throw fail("where only IPv6 addresses go in brackets") }
        } else if host.contains(":") {
            throw fail("which needs brackets around an IPv6 address, as in [fe80::1]:\(port)")
        }
        guard !host.isEmpty else { throw fail("which has no host before the port") }
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "[" || $0 == "]" }) else {
            throw fail("whose host \(quoted(host)) is not an address or host name")
        }
        let endpoint = PeerEndpoint(host: host, port: UInt16(port))
        if !wildcard, NodeConfiguration.isWildcard(endpoint) {
            throw fail("a wildcard address that other nodes cannot reach")
        }
        return endpoint
    }

    /// An octal permission string such as `"0660"`; the owner must keep read and write.
    static func mode(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> mode_t {
        var digits = Substring(text)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        while digits.count > 3, digits.hasPrefix("0") { digits = digits.dropFirst() }
        guard digits.count == 3, let mode = UInt32(digits, radix: 8) else {
            throw ConfigError.invalid(
                .badValue, origin, key, problem: "is \(quoted(text)), which is not an octal permission mode like \"0660\"")
        }
        guard mode & 0o600 == 0o600 else {
            throw ConfigError.invalid(
                .badValue, origin, key,
                problem: "is \(quoted(text)), which denies the daemon's own user read and write on its socket")
        }
        return mode_t(mode)
    }

    /// A group of this system, by name or number (``NodeConfiguration/socketGroupID(_:)``).
    static func group(_ text: String, _ key: ConfigKey, _ origin: ConfigOrigin) throws -> String {
        guard !text.isEmpty, NodeConfiguration.socketGroupID(text) != nil else {
            throw ConfigError.invalid(
                .badValue, origin, key,
                problem: "is \(quoted(text)), which is no group of this system; create it (groupadd) or leave the key out for the daemon's own group")
        }
        return text
    }

    /// The probe timeout must leave time for indirect probes within the protocol period (SWIM 4.1).
    static func membershipTimings(_ config: NodeConfiguration, _ origin: ConfigOrigin) throws {
        let settings = config.membership
        let tuning = config.membershipTuning
        guard settings.probeTimeout >= settings.probeInterval else { return }
        let interval = settings.probeInterval.milliseconds
        let timeout = settings.probeTimeout.milliseconds
        let preset = "from preset \(quoted(config.membershipPreset))"
        if tuning.probeTimeout != nil || tuning.probeInterval == nil {
            let intervalFrom = tuning.probeInterval == nil ? "\(interval) ms, \(preset)" : "\(interval) ms"
            throw ConfigError.invalid(
                .badValue, origin, key: "membership.probe_timeout_ms",
                problem: "is \(timeout), but it must be less than membership.probe_interval_ms (\(intervalFrom)) so indirect probes have time",
                instead: instead(origin, "probe_timeout_ms = \(max(1, interval / 2)) under [membership], or a longer probe_interval_ms"))
        }
        throw ConfigError.invalid(
            .badValue, origin, key: "membership.probe_interval_ms",
            problem: "is \(interval), but it must be more than membership.probe_timeout_ms (\(timeout) ms, \(preset)) so indirect probes have time",
            instead: instead(origin, "probe_interval_ms = \(timeout * 2) under [membership], or also set a shorter probe_timeout_ms"))
    }

    private static func instead(_ origin: ConfigOrigin, _ text: String) -> String {
        if case .file = origin { return "write \(text)" }
        return "set \(text) in the config file"
    }

    /// `bind` and `advertise` together must give an address others can reach.
    static func advertisedAddress(_ config: NodeConfiguration, _ origin: ConfigOrigin) throws {
        guard config.advertisedEndpoint == nil else { return }
        let port = config.bind.port
        let problem = "is not set, and network.bind (\(config.bind)) is a wildcard address that other nodes cannot reach"
        let instead: String
        if case .file = origin {
            instead = "write advertise = \"<this node's mesh address>:\(port)\" under [network], or pass --advertise <address>:\(port)"
        } else {
            instead = "pass --advertise <this node's mesh address>:\(port), or bind a specific address such as --bind 10.1.2.3:\(port)"
        }
        throw ConfigError.invalid(.missingValue, origin, key: ConfigKeys.advertise.dotted, problem: problem, instead: instead)
    }

    // MARK: Wording

    static func quoted(_ text: String) -> String { "\"\(text)\"" }

    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }

    static func article(_ type: TOMLType) -> String {
        switch type {
        case .int: "an integer"
        case .array: "an array"
        case .bool: "a boolean"
        case .double: "a floating-point number"
        case .string: "a string"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }

    /// The candidate nearest to `word` by edit distance, if it is close enough to be a typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored else { return nil }
        return distance <= max(2, word.count / 4) ? best : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension NodeConfiguration {
    /// Checks the configuration as a whole, as it will be run.
    ///
    /// Single values are checked where they are read; this checks what depends on several keys
    /// or on more than one source: the probe timeout against the probe interval, and that some
    /// address can be announced (``advertisedEndpoint``). Errors name ``source`` when set.
    ///
    /// - Returns: `self`, unchanged.
    /// - Throws: ``ConfigError``.
    public func validated() throws -> NodeConfiguration {
        let origin: ConfigOrigin = source.map { .file($0) } ?? .defaults
        try ConfigCheck.membershipTimings(self, origin)
        try ConfigCheck.advertisedAddress(self, origin)
        return self
    }
}
