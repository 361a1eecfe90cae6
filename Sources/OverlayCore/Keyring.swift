/// The community keyring: the public keys admitted to the cloud.
///
/// An operator manages it as a text file (`keyring` in the state directory), one key a line:
///
///     # comment
///     <64 hex digits> [name] [from=YYYY-MM-DD] [until=YYYY-MM-DD] [role=operator]
///
/// `from` and `until` (UTC days, `until` inclusive) let a community rotate a node's key with
/// overlapping validity: list the new key with `from=`, the old one with `until=`, and both work
/// during the overlap. Datagrams and items from keys not admitted at the current time are
/// dropped before any signature is checked. `role=operator` lets a key revoke any key
/// cloud-wide (``KeyTrust``); a node rolls its own key without editing the file.
public struct Keyring: Sendable, Equatable {
    /// One admitted key.
    public struct Entry: Sendable, Equatable {
        /// The admitted public key.
        public var id: NodeID
        /// The operator's label for it, if any (informational only; members announce their own names).
        public var label: String?
        /// The first instant the key is valid, if limited.
        public var validFrom: Instant?
        /// The first instant the key is no longer valid, if limited.
        public var validUntil: Instant?
        /// Whether the key may revoke any key cloud-wide (`role=operator`). Default `false`:
        /// a key may revoke only itself.
        public var mayRevoke: Bool

        /// Creates an entry; with no limits the key is valid forever.
        public init(id: NodeID, label: String? = nil, validFrom: Instant? = nil, validUntil: Instant? = nil, mayRevoke: Bool = false) {
            self.id = id
            self.label = label
            self.validFrom = validFrom
            self.validUntil = validUntil
            self.mayRevoke = mayRevoke
        }

        /// The entry as a line of the keyring file (``Keyring/parse(_:source:)`` reads it back).
        /// Limits are whole UTC days: `from=` the day ``validFrom`` falls in, `until=` the day
        /// before the one ``validUntil`` falls in (the file's `until` is inclusive).
        public var line: String {
            var fields = [id.hex]
            if let label { fields.append(label) }
            if let validFrom { fields.append("from=\(CalendarDay(containing: validFrom))") }
            if let validUntil { fields.append("until=\(CalendarDay(containing: validUntil - .milliseconds(1)))") }
            if mayRevoke { fields.append("role=operator") }
            return fields.joined(separator: " ")
        }

        /// Whether the key is valid at `now`.
        public func isValid(at now: Instant) -> Bool {
            if let validFrom, now < validFrom { return false }
            if let validUntil, now >= validUntil { return false }
            return true
        }
    }

    /// The entries by key; a key may appear only once in a file.
    public private(set) var entries: [NodeID: Entry]

    /// Creates a keyring from entries.
    public init(_ entries: [Entry] = []) {
        var map = [NodeID: Entry]()
        for entry in entries { map[entry.id] = entry }
        self.entries = map
    }

    /// Whether `id` is admitted at `now`.
    public func admits(_ id: NodeID, at now: Instant) -> Bool {
        entries[id]?.isValid(at: now) ?? false
    }

    /// The number of keys listed, valid or not.
    public var count: Int { entries.count }

    /// Adds or replaces an entry.
    public mutating func insert(_ entry: Entry) { entries[entry.id] = entry }

    /// Parses the keyring file format.
    ///
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - source: the file's path, used in error messages.
    /// - Throws: ``KeyringError`` naming the file and line of the first problem.
    public static func parse(_ text: String, source: String) throws -> Keyring {
        var keyring = Keyring()
        // Character.isNewline: a CRLF pair is one Character, which a split on "\n" never matches.
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = fields.first else { continue }
            let place = "\(source) line \(index + 1)"
            guard let id = NodeID(hex: first) else {
                throw KeyringError(description: "\(place): '\(first)' is not a public key (expected 64 hex digits, as 'overlayd init' prints)")
            }
            guard keyring.entries[id] == nil else {
                throw KeyringError(description: "\(place): key \(id.shortForm) is listed twice")
            }
            var entry = Entry(id: id)
            for field in fields.dropFirst() {
                if field.hasPrefix("from=") || field.hasPrefix("until=") {
                    let (key, value) = field.hasPrefix("from=") ? ("from", String(field.dropFirst(5))) : ("until", String(field.dropFirst(6)))
                    guard let day = CalendarDay(parsing: value) else {
                        throw KeyringError(description: "\(place): '\(field)' is not a date (write \(key)=YYYY-MM-DD)")
                    }
                    if key == "from" { entry.validFrom = day.start } else { entry.validUntil = day.start + .seconds(86_400) }
                } else if field.hasPrefix("role=") {
                    guard field == "role=operator" else {
                        throw KeyringError(description: "\(place): '\(field)' is not a role (the one role is role=operator)")
                    }
                    entry.mayRevoke = true
                } else if entry.label == nil {
                    entry.label = field
                } else {
                    throw KeyringError(description: "\(place): unexpected '\(field)' (a line is: KEY [name] [from=YYYY-MM-DD] [until=YYYY-MM-DD] [role=operator])")
                }
            }
            keyring.insert(entry)
        }
        return keyring
    }
}

/// A keyring file that cannot be used; the message names the file and line.
public struct KeyringError: Error, CustomStringConvertible, Sendable {
    /// One sentence for the operator.
    public let description: String
}

/// A UTC calendar day, for keyring validity limits.
struct CalendarDay: CustomStringConvertible {
    let year: Int, month: Int, day: Int

    /// The day `instant` falls in (civil-from-days, the inverse of ``start``).
    init(containing instant: Instant) {
        let days = Int(instant.milliseconds >= 0 ? instant.milliseconds / 86_400_000 : (instant.milliseconds - 86_399_999) / 86_400_000)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `YYYY-MM-DD`.
    var description: String {
        func pad(_ value: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    init?(parsing text: String) {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        // Years 1970-9999: a validity limit outside them is a typo, and a year in the
        // quintillions would overflow the day count (found by the keyring fuzz target).
        guard parts.count == 3, (1...12).contains(parts[1]), (1970...9999).contains(parts[0]) else { return nil }
        let leap = parts[0] % 4 == 0 && (parts[0] % 100 != 0 || parts[0] % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[parts[1] - 1]).contains(parts[2]) else { return nil }
        (year, month, day) = (parts[0], parts[1], parts[2])
    }

    /// Midnight UTC at the start of the day (days-from-civil, proleptic Gregorian calendar).
    var start: Instant {
        let y = month <= 2 ? year - 1 : year
        let era = y / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Instant(milliseconds: Int64(days) * 86_400_000)
    }
}
