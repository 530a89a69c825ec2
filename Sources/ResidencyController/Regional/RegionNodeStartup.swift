import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

/// What `residency region serve` does before it listens: take the data directory (0700, locked against a second
/// process), load or create the service's key pair, and join the controller with a code — or check that the
/// directory's enrolment is the region asked for. Every refusal says what was wrong and what to do.
package struct RegionNodeStartup: Sendable {
    package let node: RegionNode
    package let identity: TLSIdentity
    /// Held for the process's lifetime.
    package let lock: DataDirectoryLock
    /// True when this start joined the controller (first start, or a new code).
    package let joined: Bool

    package static func open(
        region: String, site: String?, controllerURL: String, joinCode: String?, dataDirectory: URL,
        catalog: RegionCatalog?, clock: Clock = .system
    ) throws -> RegionNodeStartup {
        if let catalog, catalog.region(id: region) == nil {
            throw RegionEnrolmentError(
                "--region \(region) is not a region; accepted: \(catalog.regionIDs.joined(separator: ", "))")
        }
        let directory = DataDirectory(dataDirectory)
        let lock = try DataDirectoryLock(directory: directory)
        let identityDirectory = dataDirectory.appendingPathComponent("identity", isDirectory: true)
        try FileManager.default.createDirectory(
            at: identityDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let identity = try TLSIdentity.loadOrCreate(in: identityDirectory, name: "residency-region-\(region)")
        var configuration = try RegionNodeConfiguration.load(from: dataDirectory)
        if let existing = configuration, existing.region != region {
            throw RegionEnrolmentError(
                "\(dataDirectory.path) holds the identity of region \(existing.region), not \(region); start it with --region \(existing.region), or give region \(region) its own data directory"
            )
        }
        // The service's witness cosigns the controller's checkpoints (its own key, beside the TLS one).
        let witnessDirectory = dataDirectory.appendingPathComponent("witness", isDirectory: true)
        let witnessName = "residency-region-\(region)"
        var joined = false
        if let joinCode {
            let code = try JoinCode(parsing: joinCode)
            let witnessKey = try Witness.open(directory: witnessDirectory, name: witnessName, adding: []).cosigner.key.encoded
            configuration = try RegionJoin.join(
                region: region, site: site, controllerURL: controllerURL, code: code, identity: identity,
                witnessKey: witnessKey, in: dataDirectory, clock: clock)
            joined = true
        }
        guard let configuration else {
            throw RegionEnrolmentError(
                "this service has not joined a controller yet; on the controller run `residency regions enroll \(region) --endpoint https://HOST:PORT` and start this service with --join CODE (or RESIDENCY_JOIN_CODE)"
            )
        }
        if let site, site != configuration.site {
            throw RegionEnrolmentError("--site \(site): this service was enrolled for site \(configuration.site)")
        }
        var witness: Witness?
        if let ledgerKey = configuration.ledgerKey {
            witness = try Witness.open(
                directory: witnessDirectory, name: witnessName, adding: [try NoteVerifier(encoded: ledgerKey)])
        }
        let node = try RegionNode(
            configuration: configuration, dataDirectory: dataDirectory, witness: witness, identity: identity, clock: clock)
        return RegionNodeStartup(node: node, identity: identity, lock: lock, joined: joined)
    }

    /// The keys allowed to call this service: the controller's, and the application keys its operator pinned
    /// (one base64 pin per line of `client-pins` in the data directory; `#` starts a comment).
    package func pinnedPeers() throws -> Set<String> {
        guard let controller = TLSIdentity.pin(ofEd25519: node.configuration.controllerKey) else {
            throw RegionEnrolmentError("region.json holds no usable controller key; enrol the service again")
        }
        var pins: Set<String> = [controller]
        let url = node.dataDirectory.appendingPathComponent("client-pins")
        if FileManager.default.fileExists(atPath: url.path) {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let pin = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                    .trimmingCharacters(in: .whitespaces) ?? ""
                if pin.isEmpty { continue }
                guard pin.utf8.count == 44, Data(base64Encoded: pin)?.count == 32 else {
                    throw RegionEnrolmentError(
                        "\(url.path) line \(number + 1): \"\(pin.prefix(60))\" is not a key pin; accepted: base64 of 32 bytes, as `residency region pin` prints")
                }
                pins.insert(pin)
            }
        }
        return pins
    }
}
