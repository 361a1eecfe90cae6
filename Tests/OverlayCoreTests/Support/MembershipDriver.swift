import Foundation
import OverlayWire
@testable import OverlayCore

/// Builds a bare ``Membership`` for node 0 and drives its timers by hand.
enum MembershipFixture {
    static let local = TestKeys.signer(0)

    static func make(settings: MembershipSettings = .radio, seed: UInt64 = 7, now: Instant = .zero) -> Membership {
        Membership(
            name: "local", endpoint: TestKeys.endpoint(0), incarnation: 1, signer: local, settings: settings,
            joinTargets: [], rng: DeterministicRandom(seed: seed), now: now)
    }
}

/// A directive with the time it was produced.
struct Timed {
    let time: Instant
    let directive: MembershipDirective
}

extension Membership {
    /// Applies node `index`'s own ALIVE claim, as if it had been gossiped here.
    @discardableResult
    mutating func admit(_ index: Int, incarnation: UInt64 = 1, at now: Instant) -> [MembershipDirective]? {
        onClaim(Claims.alive(TestKeys.signer(index), incarnation: incarnation, endpoint: TestKeys.endpoint(index), at: now), now: now)
    }

    /// Fires every timer due up to and including `time`, one deadline at a time.
    mutating func advance(to time: Instant) -> [Timed] {
        var out: [Timed] = []
        while let deadline = nextDeadline, deadline <= time {
            out += onTick(now: deadline).map { Timed(time: deadline, directive: $0) }
        }
        return out
    }

    func state(of index: Int) -> MemberState? { members[TestKeys.id(index)]?.state }
}

extension MembershipDirective {
    /// The ping's probe number and target, if this directive sends a ping.
    var ping: (probe: UInt64, target: NodeID)? {
        if case .send(.ping(let ping), let destination) = self, let id = destination.id { return (ping.probe, id) }
        return nil
    }

    var pingRequest: (request: Overlayd_V1_PingRequest, helper: NodeID)? {
        if case .send(.pingRequest(let request), let destination) = self, let id = destination.id { return (request, id) }
        return nil
    }

    var nack: (probe: UInt64, to: Destination)? {
        if case .send(.nack(let nack), let destination) = self { return (nack.probe, destination) }
        return nil
    }

    var ack: (probe: UInt64, to: Destination)? {
        if case .send(.ack(let ack), let destination) = self { return (ack.probe, destination) }
        return nil
    }

    var broadcastItem: SignedItem? {
        if case .broadcast(let item) = self { return item }
        return nil
    }

    var change: MemberChange? {
        if case .changed(let change) = self { return change }
        return nil
    }
}

extension SignedItem {
    /// The membership claim this item carries.
    var claim: Overlayd_V1_MemberClaim? {
        if case .member(let claim)? = item.kind { return claim }
        return nil
    }
}
