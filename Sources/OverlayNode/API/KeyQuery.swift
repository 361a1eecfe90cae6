import OverlayCore

/// The query parameters of the `/v1/keys/...` write routes, checked before anything is done:
/// each bad value is a `400 bad_request` with one sentence.
enum KeyQuery {
    /// The longest overlap a roll may ask for, in days. 365: the old key stays admitted no
    /// longer than a year (a longer overlap keeps a possibly stolen key useful for longer).
    static let maxOverlapDays = 365
    /// The overlap of a roll when `overlap_days` is not given. 14 days: long enough for a node
    /// switched off over a holiday to come back while its peers' old keys still work.
    static let defaultOverlapDays = 14

    /// `key`: one public key, 64 hex digits.
    static func key(_ query: [String: [String]]) throws(APIRejection) -> NodeID {
        guard let values = query["key"], values.count == 1 else {
            throw .badRequest("give the key once: key=<64 hex digits>")
        }
        guard let id = NodeID(hex: values[0]) else {
            throw .badRequest("'\(values[0])' is not a public key (expected 64 hex digits, as 'overlayd id' prints)")
        }
        return id
    }

    /// `overlap_days`: 1 to ``maxOverlapDays``, default ``defaultOverlapDays``.
    static func overlap(_ query: [String: [String]]) throws(APIRejection) -> Duration {
        guard let values = query["overlap_days"] else { return .seconds(Int64(defaultOverlapDays) * 86_400) }
        guard values.count == 1, let days = Int(values[0]), (1...maxOverlapDays).contains(days) else {
            throw .badRequest("overlap_days must be one whole number of days from 1 to \(maxOverlapDays)")
        }
        return .seconds(Int64(days) * 86_400)
    }

    /// `key`, and optionally `label`, `from`, `until` (YYYY-MM-DD, UTC) and `role=operator`,
    /// read as a line of the keyring file would be (so the same rules and messages apply).
    static func entry(_ query: [String: [String]]) throws(APIRejection) -> Keyring.Entry {
        let id = try key(query)
        var fields = [id.hex]
        if let label = query["label"] {
            guard label.count == 1, let text = label.first, !text.isEmpty,
                  !text.contains(where: { $0.isWhitespace || $0 == "#" || $0 == "=" })
            else { throw .badRequest("a label is one word without spaces, '#' or '='") }
            fields.append(text)
        }
        for name in ["from", "until", "role"] {
            guard let values = query[name] else { continue }
            guard values.count == 1 else { throw .badRequest("give \(name) at most once") }
            fields.append("\(name)=\(values[0])")
        }
        do {
            guard let entry = try Keyring.parse(fields.joined(separator: " "), source: "the request").entries[id] else {
                throw APIRejection.badRequest("the key could not be read")
            }
            return entry
        } catch let error as KeyringError {
            throw .badRequest(error.description)
        } catch {
            throw .badRequest("\(error)")
        }
    }
}
