import OverlayAPI

/// The summary `overlayctl selection` prints: the gateway in use, why, what the last round
/// considered, and what selection has cost so far.
///
/// ```
/// gateway     gw-sants (chosen 2m05s ago)
/// why         Kept gw-sants: no candidate is better by at least 20% and 20 ms (...).
/// round       12, periodic, strategy collaborative
/// previous    gw-sants
/// cost        3 probes sent, 17 shared estimates used, 12 rounds
/// next round  in 4m12s
///
/// CANDIDATE  BASIS       LATENCY  SPREAD  OBSERVERS  CLIENTS  SCORE   NOTE
/// gw-raval   shared      93.0ms   ±12ms   3          7        113ms   —
/// gw-poble   unmeasured  —        —       0          0        —       unusable
/// gw-sants   probed      41.0ms   —       1          4        46.1ms  chosen, previous
/// ```
///
/// SPREAD is how certain a shared estimate is: the interquartile range of its observers'
/// latencies (the middle half of them lies within it), shown from two observers on.
///
/// ```
/// ```
public enum SelectionSummary {
    /// The candidate table's column titles, in order.
    public static let candidateColumns = ["CANDIDATE", "BASIS", "LATENCY", "SPREAD", "OBSERVERS", "CLIENTS", "SCORE", "NOTE"]

    /// Renders a selection as labelled lines, then (when the last round had candidates) a blank
    /// line and the candidate table; every line ends in a newline.
    ///
    /// - Parameter selection: the daemon's selection.
    /// - Returns: the summary text.
    public static func render(_ selection: SelectionResponse) -> String {
        var gateway = selection.current.map(PeerTable.displaySafe) ?? "none"
        if selection.current != nil, let ago = selection.decidedSecondsAgo {
            gateway += " (chosen \(DurationText.format(seconds: ago)) ago)"
        }
        let why = selection.explanation.map(PeerTable.displaySafe)
            ?? (selection.roundsCompleted == 0 ? "no selection round has completed yet" : PeerTable.unknown)
        var round = selection.round == 0 ? "none yet" : String(selection.round)
        if let reason = selection.reason { round += ", " + reasonText(reason) }
        round += ", strategy " + PeerTable.displaySafe(selection.strategy)
        let lines: [(String, String)] = [
            ("gateway", gateway),
            ("why", why),
            ("round", round),
            ("previous", selection.previous.map(PeerTable.displaySafe) ?? PeerTable.unknown),
            ("cost", "\(count(selection.probesSent, "probe")) sent, \(count(selection.sharedEstimatesUsed, "shared estimate")) used, \(count(selection.roundsCompleted, "round"))"),
            ("next round", selection.nextRoundInSeconds.map { "in " + DurationText.format(seconds: $0) } ?? "not scheduled"),
        ]
        let width = lines.map(\.0.count).max() ?? 0
        var out = lines.map { label, value in
            label + String(repeating: " ", count: width - label.count + 2) + value + "\n"
        }.joined()
        if !selection.candidates.isEmpty {
            out += "\n" + renderCandidates(selection.candidates)
        }
        return out
    }

    /// Renders the candidate table, in the order given (candidate order).
    ///
    /// - Parameter candidates: the last round's candidates.
    /// - Returns: the table text.
    public static func renderCandidates(_ candidates: [CandidateInfo]) -> String {
        TextTable.render([candidateColumns] + candidates.map(cells))
    }

    /// The cells of one candidate row, in ``candidateColumns`` order.
    ///
    /// - Parameter candidate: the candidate.
    /// - Returns: gateway, basis (`probed`, `shared`, `unmeasured`), latency, spread, observers,
    ///   clients, score, and a note (`chosen`, `previous`, `unusable`).
    public static func cells(_ candidate: CandidateInfo) -> [String] {
        var notes: [String] = []
        if candidate.chosen { notes.append("chosen") }
        if candidate.isPrevious { notes.append("previous") }
        if !candidate.usable { notes.append("unusable") }
        return [
            PeerTable.displaySafe(candidate.gateway),
            PeerTable.displaySafe(candidate.basis),
            candidate.contentLatencyMs.map { DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            candidate.spreadMs.map { "±" + DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            String(candidate.observers),
            String(candidate.clients),
            candidate.score.map { DurationText.format(milliseconds: $0) } ?? PeerTable.unknown,
            notes.isEmpty ? PeerTable.unknown : notes.joined(separator: ", "),
        ]
    }

    /// A reason label as words: `current_failed` reads `current failed`.
    ///
    /// - Parameter label: the API's reason label.
    /// - Returns: the label with underscores as spaces, made safe for a terminal.
    public static func reasonText(_ label: String) -> String {
        PeerTable.displaySafe(label.replacingOccurrences(of: "_", with: " "))
    }

    private static func count(_ value: Int, _ noun: String) -> String {
        "\(value) \(noun)\(value == 1 ? "" : "s")"
    }
}
