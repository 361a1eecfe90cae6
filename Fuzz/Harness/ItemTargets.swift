import Foundation
import OverlayWire
import SwiftProtobuf
@testable import OverlayCore

/// `item-<kind>`: the fuzzer's bytes as the body of one relayed item kind, signed by a member
/// (so it passes admission and verification) and delivered in a gossip packet to the fuzz
/// cloud's agent, which decodes it with the kind's own rules; the gateway kinds also go
/// straight through their codecs (``ObservationCodec``, ``AnnouncementCodec``).
enum ItemTargets {
    static let all: [FuzzTarget] = [
        target("item-member", "membership claims (alive, suspect, failed, left) into Membership via the agent") {
            (try? Overlayd_V1_MemberClaim(serializedBytes: $0)).map { .member($0) }
        },
        target("item-observation", "gateway observations into ObservationCodec and GatewayGossip via the agent") { bytes in
            guard let message = try? Overlayd_V1_GatewayObservation(serializedBytes: bytes) else { return nil }
            _ = ObservationCodec.decode(message, observer: FuzzKeys.id(2))
            return .observation(message)
        },
        target("item-gateway", "gateway announcements into AnnouncementCodec and GatewayGossip via the agent") { bytes in
            guard let message = try? Overlayd_V1_GatewayAnnouncement(serializedBytes: bytes) else { return nil }
            _ = AnnouncementCodec.decode(message)
            return .gateway(message)
        },
        target("item-selection", "selection announcements into AnnouncementCodec and GatewayGossip via the agent") { bytes in
            guard let message = try? Overlayd_V1_SelectionAnnouncement(serializedBytes: bytes) else { return nil }
            _ = AnnouncementCodec.decode(message, node: FuzzKeys.id(2), issuedAt: FuzzCloud.t0)
            return .selection(message)
        },
        target("item-view-vote", "quorum view votes and promises into QuorumView via the agent") {
            (try? Overlayd_V1_ViewVote(serializedBytes: $0)).map { .viewVote($0) }
        },
        target("item-key-roll", "key rolls into KeyTrust via the agent") {
            (try? Overlayd_V1_KeyRoll(serializedBytes: $0)).map { .keyRoll($0) }
        },
        target("item-key-revocation", "key revocations into KeyTrust via the agent") {
            (try? Overlayd_V1_KeyRevocation(serializedBytes: $0)).map { .keyRevocation($0) }
        },
    ]

    private static func target(
        _ name: String, _ summary: String, decode: @escaping @Sendable (Data) -> Overlayd_V1_Item.OneOf_Kind?
    ) -> FuzzTarget {
        FuzzTarget(
            name: name, summary: summary,
            seeds: { sampleKinds().compactMap { sample in name == "item-" + sample.kind.fuzzName ? sample.kind.body : nil } },
            run: { bytes in
                guard let kind = decode(bytes) else { return }
                FuzzCloud.deliverItem(kind, origin: 2)
            })
    }

    /// Valid items of every kind, as their origins make them.
    static func sampleKinds() -> [(kind: Overlayd_V1_Item.OneOf_Kind, origin: Int)] {
        var out: [(Overlayd_V1_Item.OneOf_Kind, Int)] = [
            (Membership.aliveKind(name: "node2", endpoint: FuzzKeys.endpoint(2), incarnation: 2), 2),
            (Membership.claimKind(subject: FuzzKeys.id(3), incarnation: 1, state: .suspect), 2),
            (Membership.claimKind(subject: FuzzKeys.id(4), incarnation: 1, state: .failed), 2),
            (Membership.claimKind(subject: nil, incarnation: 1, state: .left), 2),
        ]
        let gateway = GatewayID("10.0.1.1:3128")
        out.append((ObservationCodec.kind(Observation(
            observer: FuzzKeys.id(2), gateway: gateway, contentLatency: .milliseconds(180), timeToFirstByte: .milliseconds(40),
            failure: nil, bytes: 20_000, hops: 2, takenAt: FuzzCloud.t0, sequence: 1)), 2))
        out.append((ObservationCodec.kind(Observation(
            observer: FuzzKeys.id(2), gateway: gateway, contentLatency: nil, timeToFirstByte: nil,
            failure: .timeout, bytes: 0, hops: nil, takenAt: FuzzCloud.t0, sequence: 2)), 2))
        out.append((AnnouncementCodec.kind(AnnouncementCodec.GatewayStatement(
            gateway: gateway, proxy: ProxyEndpoint(host: "10.0.1.1", port: 3128), capacity: 40, clients: 3, sequence: 1)), 2))
        out.append((AnnouncementCodec.kind(SelectionAnnouncement(node: FuzzKeys.id(2), gateway: gateway, sequence: 1, announcedAt: FuzzCloud.t0)), 2))
        out.append((AnnouncementCodec.kind(SelectionAnnouncement(node: FuzzKeys.id(2), gateway: nil, sequence: 2, announcedAt: FuzzCloud.t0)), 2))
        let view = FuzzCloud.agent.quorumView?.view
        var vote = Overlayd_V1_ViewVote()
        vote.epoch = view?.epoch ?? 1
        vote.lineage = view?.lineage ?? Data(repeating: 1, count: 8)
        vote.add = [FuzzKeys.id(2).data, FuzzKeys.id(3).data]
        out.append((.viewVote(vote), 2))
        var promise = vote
        promise.round = 1
        promise.coordinator = FuzzKeys.id(2).data
        promise.promise = true
        promise.votedRound = 0
        out.append((.viewVote(promise), 2))
        var removal = Overlayd_V1_ViewVote()
        removal.epoch = vote.epoch
        removal.lineage = vote.lineage
        removal.remove = [FuzzKeys.id(4).data]
        removal.round = 1
        removal.coordinator = FuzzKeys.id(2).data
        out.append((.viewVote(removal), 2))
        var roll = Overlayd_V1_KeyRoll()
        roll.successor = Data(repeating: 0xA5, count: 32)
        roll.validFromMs = UInt64(FuzzCloud.t0.milliseconds)
        roll.overlapUntilMs = UInt64(FuzzCloud.t0.milliseconds) + 1_209_600_000
        out.append((.keyRoll(roll), 2))
        var revocation = Overlayd_V1_KeyRevocation()
        revocation.key = FuzzKeys.id(2).data
        out.append((.keyRevocation(revocation), 2))
        return out
    }
}

extension Overlayd_V1_Item.OneOf_Kind {
    /// The kind's part of its target's name.
    var fuzzName: String {
        switch self {
        case .member: "member"
        case .observation: "observation"
        case .gateway: "gateway"
        case .selection: "selection"
        case .viewVote: "view-vote"
        case .keyRoll: "key-roll"
        case .keyRevocation: "key-revocation"
        }
    }

    /// The kind's message alone, encoded: what its target's fuzzer mutates.
    var body: Data? {
        switch self {
        case .member(let message): try? message.serializedBytes()
        case .observation(let message): try? message.serializedBytes()
        case .gateway(let message): try? message.serializedBytes()
        case .selection(let message): try? message.serializedBytes()
        case .viewVote(let message): try? message.serializedBytes()
        case .keyRoll(let message): try? message.serializedBytes()
        case .keyRevocation(let message): try? message.serializedBytes()
        }
    }
}
