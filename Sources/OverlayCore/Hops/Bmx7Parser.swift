import Foundation

/// Reads bmx7's originators list (JSON) into hop counts.
///
/// Accepted: the bmx7 JSON plugin's originators status (`/var/run/bmx7/json/originators`, or
/// `bmx7 -c jshow=originators`), an object `{"originators": [...]}`, or the bare array. Each
/// entry must carry `hops` (an integer, bmx7's OGM hop count; 0 for this node itself) and at
/// least one name among `name`, `shortId`, `nodeId` and `primaryIp`; each name becomes a key of
/// the table. An entry whose `metric` is 0 has no route and is skipped. Other fields (`dev`,
/// `nbLocalIp`, `nbName`, `metric` as bmx7's human form such as `"999M"`, ...) are ignored.
/// bmx6 printed no `hops`; its output is refused rather than guessed at.
public struct Bmx7Parser: HopTableParser {
    /// ``HopSourceFormat/bmx7``.
    public var format: HopSourceFormat { .bmx7 }

    /// The names of an originator that become table keys, in the order bmx7 prints them.
    public static let keyFields = ["name", "shortId", "nodeId", "primaryIp"]

    /// Creates a parser.
    public init() {}

    /// Parses bmx7's originators JSON.
    ///
    /// - Throws: ``HopSourceError`` if the output is empty, not JSON, has no originators array,
    ///   or has an entry without a hop count or a name.
    public func parse(_ output: String) throws(HopSourceError) -> HopTable {
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw failure(nil, "the output is empty") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: .fragmentsAllowed)
        } catch {
            let first = HopText.lines(trimmed).first?.text ?? trimmed
            throw failure(nil, "it is not valid JSON; it starts with \(HopText.quote(first))")
        }
        let entries: [Any]
        if let object = parsed as? [String: Any] {
            guard let list = object["originators"] as? [Any] else {
                throw failure(nil, "the JSON object has no \"originators\" array")
            }
            entries = list
        } else if let list = parsed as? [Any] {
            entries = list
        } else {
            throw failure(nil, "the JSON is neither an object with \"originators\" nor an array")
        }
        var table = HopTable()
        for (index, element) in entries.enumerated() {
            let number = index + 1
            guard let entry = element as? [String: Any] else { throw failure(nil, "originator \(number) is not a JSON object") }
            guard let hopsValue = entry["hops"] else {
                throw failure(nil, "originator \(number) has no \"hops\" field (bmx6 output is not supported)")
            }
            guard let hops = HopText.jsonInteger(hopsValue), hops >= 0 else {
                throw failure(nil, "originator \(number)'s \"hops\" is not a non-negative integer")
            }
            let keys = Self.keyFields.compactMap { entry[$0] as? String }.filter { !$0.isEmpty && $0 != "---" }
            guard !keys.isEmpty else {
                throw failure(nil, "originator \(number) has none of \(Self.keyFields.joined(separator: ", "))")
            }
            if Self.isZeroMetric(entry["metric"]) { continue }
            for key in keys { table.record(hops, for: key) }
        }
        return table
    }

    /// Whether bmx7's `metric` says "no route": the number 0 or the string "0".
    static func isZeroMetric(_ value: Any?) -> Bool {
        if let text = value as? String { return text.trimmingCharacters(in: .whitespaces) == "0" }
        if let number = HopText.jsonInteger(value) { return number == 0 }
        return false
    }

    private func failure(_ line: Int?, _ problem: String) -> HopSourceError {
        HopSourceError(format: .bmx7, line: line, problem: problem)
    }
}
