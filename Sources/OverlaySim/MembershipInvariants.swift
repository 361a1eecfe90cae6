import OverlayCore

/// The membership properties every chaos run checks.
public enum MembershipInvariants {
    /// Every membership invariant, in the order they are checked.
    public static func all() -> [any Invariant] {
        [NoForgedOrReplayedDatagramAccepted(), ClaimsMoveForward(), IncarnationsOnlyGrow(), HealedViewsAgree()]
    }
}

/// No forged or replayed datagram or item is accepted: every injected attack is refused as
/// the attack requires (the whole datagram, or every item in it), counted as a refusal, and
/// leaves the node's membership state exactly as it was (``SimulatedCloud/membershipFingerprint(_:)``);
/// and a refused datagram is answered with no more bytes than it had (a redirected join gets at
/// most a challenge, so a captured datagram cannot aim a larger reply at anyone).
public struct NoForgedOrReplayedDatagramAccepted: Invariant {
    /// `no-forged-or-replayed-accepted`.
    public let name = "no-forged-or-replayed-accepted"
    /// Attacks checked so far, by kind.
    public private(set) var checked: [Injection.Attack: Int] = [:]

    /// Creates the invariant.
    public init() {}

    /// Checks an injected datagram's step against what its attack required.
    public mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation? {
        guard let injection = step.injection, case .delivery(_, let accepted, _) = step.kind else { return nil }
        checked[injection.attack, default: 0] += 1
        let what = "\(injection.attack.rawValue) datagram to node \(step.node)"
        if let fingerprints = step.fingerprints, fingerprints.before != fingerprints.after {
            return InvariantViolation(invariant: name, time: step.time, detail: "the \(what) changed its membership state")
        }
        if !step.changes.isEmpty {
            return InvariantViolation(invariant: name, time: step.time, detail: "the \(what) produced member changes \(step.changes)")
        }
        switch injection.expectation {
        case .refuseDatagram:
            if accepted || step.rejections.isEmpty {
                return InvariantViolation(invariant: name, time: step.time, detail: "the \(what) was accepted")
            }
            if let answer = step.answer, answer.sent > answer.injected {
                return InvariantViolation(
                    invariant: name, time: step.time,
                    detail: "the refused \(what) (\(answer.injected) bytes) was answered with \(answer.sent) bytes")
            }
        case .refuseItems(let count):
            let itemRefusals = step.rejections.filter { $0 == .forgedItem || $0 == .invalidItem || $0 == .unknownOrigin }.count
            if accepted, itemRefusals != count {
                return InvariantViolation(
                    invariant: name, time: step.time,
                    detail: "the \(what) carried \(count) forged item(s) but \(itemRefusals) were refused (\(step.rejections))")
            }
            if !accepted, step.rejections.isEmpty {
                return InvariantViolation(invariant: name, time: step.time, detail: "the \(what) was dropped without a counted reason")
            }
        }
        return nil
    }
}

/// SWIM 4.2: what a node believes about a member only moves forward. The member changes one
/// node reports about one subject have strictly increasing `(incarnation, state precedence)`
/// (alive < suspect < failed < left), until the node forgets the subject or restarts.
public struct ClaimsMoveForward: Invariant {
    /// `claims-move-forward`.
    public let name = "claims-move-forward"
    private var latest: [Int: [NodeID: (UInt64, Int)]] = [:]

    /// Creates the invariant.
    public init() {}

    /// Checks every member change the step reported.
    public mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation? {
        if step.kind == .start { restarted(step.node) }
        for change in step.changes {
            if let violation = observe(step.node, saw: change.id, become: change.to, at: change.incarnation, time: step.time, in: cloud) {
                return violation
            }
        }
        return nil
    }

    /// Forgets what `observer` believed: it restarted.
    mutating func restarted(_ observer: Int) { latest[observer] = [:] }

    /// Checks one reported change: `observer` now holds `subject` in `state` (`nil`: forgotten)
    /// at `incarnation`.
    mutating func observe(
        _ observer: Int, saw subject: NodeID, become state: MemberState?, at incarnation: UInt64, time: SimTime, in cloud: SimulatedCloud
    ) -> InvariantViolation? {
        guard let state else {
            latest[observer]?[subject] = nil
            return nil
        }
        let incoming = (incarnation, state.hashCode)
        if let held = latest[observer]?[subject], !(incoming > held) {
            let name = cloud.index(of: subject).map { "node \($0)" } ?? subject.shortForm
            return InvariantViolation(
                invariant: self.name, time: time,
                detail: "node \(observer) moved \(name) back from (\(held.0), rank \(held.1)) to \(state) at incarnation \(incarnation)")
        }
        latest[observer, default: [:]][subject] = incoming
        return nil
    }
}

/// A node's incarnation never repeats: every start begins above every incarnation the node
/// used before (the persisted snapshot carries it across crashes).
public struct IncarnationsOnlyGrow: Invariant {
    /// `incarnations-only-grow`.
    public let name = "incarnations-only-grow"
    private var highest: [Int: UInt64] = [:]

    /// Creates the invariant.
    public init() {}

    /// Checks a (re)start against the node's highest incarnation so far.
    public mutating func afterStep(_ step: StepRecord, in cloud: SimulatedCloud) -> InvariantViolation? {
        guard step.node >= 0, let agent = cloud.nodes[step.node].agent else { return nil }
        let incarnation = agent.membership.incarnation
        if step.kind == .start, let previous = highest[step.node], incarnation <= previous {
            return InvariantViolation(
                invariant: name, time: step.time,
                detail: "node \(step.node) restarted at incarnation \(incarnation), not above its earlier \(previous)")
        }
        highest[step.node] = max(highest[step.node] ?? 0, incarnation)
        return nil
    }
}

/// After healing, every running node's view is the same: each sees exactly the other running
/// nodes as alive (and no stopped node as alive).
public struct HealedViewsAgree: Invariant {
    /// `healed-views-agree`.
    public let name = "healed-views-agree"

    /// Creates the invariant.
    public init() {}

    /// The first running node whose view differs from the set of running nodes, if any.
    public func convergenceGap(in cloud: SimulatedCloud) -> String? {
        let up = cloud.upNodes
        for observer in up {
            guard let membership = cloud.nodes[observer].agent?.membership else { continue }
            for subject in up where subject != observer {
                let state = membership.members[cloud.id(subject)]?.state
                if state != .alive {
                    return "node \(observer) sees running node \(subject) as \(state.map { "\($0)" } ?? "unknown")"
                }
            }
            let aliveCount = membership.members.values.reduce(0) { $0 + ($1.state == .alive ? 1 : 0) }
            if aliveCount != up.count - 1 {
                let stale = membership.sortedMembers.first { member in
                    member.state == .alive && !(cloud.index(of: member.id).map { cloud.nodes[$0].isUp } ?? false)
                }
                let name = stale.map { cloud.index(of: $0.id).map { "node \($0)" } ?? $0.id.shortForm } ?? "?"
                return "node \(observer) still sees stopped \(name) as alive"
            }
        }
        return nil
    }
}
