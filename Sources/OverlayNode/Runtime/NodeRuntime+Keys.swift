import Foundation
import Logging
import OverlayAPI
import OverlayCore
import OverlayCrypto

/// `overlayctl keys`: the keys this node knows, and the changes an operator makes to them
/// (``KeysAPIProvider``). Rolls and revocations are the core's (``OverlayCore/KeyTrust``); this
/// file does the shell's part: key files, the keyring file, and the switch to a new key.
extension NodeRuntime: KeysAPIProvider {
    /// How long a roll is left to spread before the node switches to its new key. 10 s: about
    /// fifty gossip rounds of the `radio` preset, and the new key's first syncs carry the roll
    /// to any member that still missed it.
    static let keyRollHandover: Duration = .seconds(10)

    /// `GET /v1/keys`.
    public func keys() async -> KeysResponse { keyList(message: "") }

    /// `POST /v1/keys/{add,roll,retire,revoke}`: performs one change.
    public func changeKeys(_ change: KeyChange) async -> Result<KeysResponse, KeyChangeRefused> {
        do {
            let message: String
            switch change {
            case .add(let entry):
                try StateDirectory.writeKeyringEntry(entry, path: keyringPath)
                reloadKeyring()
                message = "added \(entry.id.shortForm) to \(keyringPath) and reloaded it; add it to every other node's keyring file too"
            case .retire(let id):
                message = try retire(id)
            case .roll(let overlap):
                message = try await roll(overlap: overlap)
            case .revoke(let id):
                perform(try agent.revokeKey(id, now: WallClock.now()))
                transport.admitSenders(agent.keyTrust.knownKeys.map(\.data))
                logger.notice("key revoked", metadata: ["key": "\(id.hex)"])
                message = "revoked \(id.shortForm); the revocation is gossiped to every member, which then refuses the key"
            }
            return .success(keyList(message: message))
        } catch let error as Agent.KeyStatementRefused {
            return .failure(KeyChangeRefused(description: error.description))
        } catch let error as StateError {
            return .failure(KeyChangeRefused(description: error.description))
        } catch let error as KeyChangeRefused {
            return .failure(error)
        } catch {
            return .failure(KeyChangeRefused(description: "\(error)"))
        }
    }

    /// Ends a keyring-listed key's validity at once on this node: its line gets `until=` the day
    /// before today (the file counts whole days), and the keyring is reloaded.
    private func retire(_ id: NodeID) throws -> String {
        guard id != localID else {
            throw KeyChangeRefused(description: "\(id.shortForm) is this node's own key; roll it (overlayctl keys roll) instead of retiring it")
        }
        guard var entry = agent.keyring.entries[id] else {
            throw KeyChangeRefused(description: "\(id.shortForm) is not listed in \(keyringPath); a successor is retired by its own roll's overlap, or revoked (overlayctl keys revoke)")
        }
        let today = Instant(milliseconds: WallClock.now().milliseconds / 86_400_000 * 86_400_000)
        entry.validUntil = today
        try StateDirectory.writeKeyringEntry(entry, path: keyringPath)
        reloadKeyring()
        return "retired \(id.shortForm) on this node (until= yesterday in \(keyringPath)); retire it in every other node's keyring file too, or revoke it cloud-wide"
    }

    /// Creates the successor key, announces the roll (persisted before it is sent), and
    /// schedules the switch after ``keyRollHandover``.
    private func roll(overlap: Duration) async throws -> String {
        guard keySwitch == nil else {
            throw KeyChangeRefused(description: "a key roll is already under way; the node switches to its new key within \(Self.keyRollHandover.components.seconds) s")
        }
        guard agent.keyTrust.rolls[localID] == nil else {
            throw KeyChangeRefused(description: "this node's key \(localID.shortForm) has already rolled over")
        }
        let next = try stateDirectory.createNextKey()
        let successor = NodeID(bytes: next.publicKey.bytes)!
        let now = WallClock.now()
        let (roll, directives): (KeyRoll, [AgentDirective])
        do {
            (roll, directives) = try agent.announceKeyRoll(to: successor, overlap: overlap, now: now)
        } catch {
            stateDirectory.discardNextKey()
            throw error
        }
        perform(directives)
        await flushSnapshots()
        logger.notice("key roll announced", metadata: [
            "old": "\(localID.hex)", "new": "\(successor.hex)", "overlap_until": "\(KeyTimes.text(roll.overlapUntil))",
        ])
        keySwitch = Task { [weak self] in
            try? await Task.sleep(for: Self.keyRollHandover)
            guard !Task.isCancelled else { return }
            await self?.switchKey(to: next)
        }
        return "rolled \(localID.shortForm) over to \(successor.shortForm); the node switches to it in \(Self.keyRollHandover.components.seconds) s, and the old key stays admitted until \(KeyTimes.text(roll.overlapUntil))"
    }

    /// The handover: the successor key becomes `node.key`, the node leaves under its old key and
    /// continues under the new one (``OverlayCore/Agent/continuation(as:seed:now:)``).
    func switchKey(to identity: NodeIdentity) {
        keySwitch = nil
        do {
            try stateDirectory.promoteNextKey()
        } catch {
            logger.error("cannot switch to the new key, staying on the old one until a restart: \(error)")
            return
        }
        let now = WallClock.now()
        let old = localID
        perform(agent.leave(now: now))
        let newSigner = SodiumSigner(identity: identity)
        agent = agent.continuation(as: newSigner, seed: SecureRandom.uint64(), now: now)
        signer = newSigner
        localID = newSigner.nodeID
        logger[metadataKey: "node"] = "\(localID.shortForm)"
        transport.admitSenders(agent.keyTrust.knownKeys.map(\.data))
        perform(agent.start(now: now))
        logger.notice("switched to the new key", metadata: ["old": "\(old.hex)", "new": "\(localID.hex)"])
    }

    /// At start: a `node.key.next` left by a roll becomes the node key if the persisted
    /// statements hold its roll (the switch was interrupted), and is discarded otherwise.
    ///
    /// - Returns: the identity to run as.
    static func finishKeyRoll(_ directory: StateDirectory, snapshot: inout PeerSnapshot?, logger: Logger) throws -> NodeIdentity {
        let current = try directory.loadIdentity()
        guard let next = directory.loadNextKey() else { return current }
        let currentID = NodeID(bytes: current.publicKey.bytes)!, nextID = NodeID(bytes: next.publicKey.bytes)!
        let boot = AgentBoot(endpoint: PeerEndpoint(host: "0.0.0.0", port: 0), seeds: [], snapshot: snapshot, now: .zero)
        let announced = boot.keyStatements.contains { item in
            if case .roll(let roll)? = KeyStatement(item) { roll.predecessor == currentID && roll.successor == nextID } else { false }
        }
        guard announced else {
            directory.discardNextKey()
            return current
        }
        try directory.promoteNextKey()
        // The new key joins as a new member and learns the view from the others.
        snapshot?.view = nil
        logger.notice("finished an interrupted key roll: running as the new key", metadata: ["old": "\(currentID.hex)", "new": "\(nextID.hex)"])
        return next
    }

    /// The key table as the API shows it.
    func keyList(message: String) -> KeysResponse {
        let trust = agent.keyTrust
        let now = WallClock.now()
        let rows = trust.knownKeys.map { id -> KeyInfo in
            let entry = trust.keyring.entries[id]
            let validity = trust.validity(of: id)
            var label = entry?.label
            if label == nil, let predecessor = trust.predecessor(of: id) {
                label = trust.keyring.entries[predecessor]?.label.map { "\($0) (rolled)" }
            }
            return KeyInfo(
                id: id.hex, label: label, validFrom: validity.from.map(KeyTimes.text), validUntil: validity.until.map(KeyTimes.text),
                state: (trust.state(of: id, at: now) ?? .retired).rawValue, source: entry != nil ? "keyring" : "roll",
                predecessor: trust.predecessor(of: id)?.hex, successor: trust.rolls[id]?.successor.hex,
                isOperator: entry?.mayRevoke ?? false, isLocal: id == localID)
        }
        return KeysResponse(version: version, localKey: localID.hex, keys: rows, message: message)
    }
}

/// Times of the key table, as RFC 3339 UTC text.
enum KeyTimes {
    static func text(_ instant: Instant) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(instant.milliseconds) / 1000))
    }
}
