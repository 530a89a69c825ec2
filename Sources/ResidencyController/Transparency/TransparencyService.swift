import ResidencyCore
import ResidencyStore

/// What the ledger shows the outside world: each tenant's entries with their proofs, and the keys to check them.
package final class TransparencyService: ControllerService {
    let context: ControllerContext
    /// Signs and publishes checkpoints, with a witness quorum's cosignatures under `witnesses.json`.
    package let publisher: LedgerPublisher

    init(context: ControllerContext, publisher: LedgerPublisher) {
        self.context = context
        self.publisher = publisher
    }
}

extension TransparencyService {
    /// The keys to check exports against: the log's and the witnesses'. A verifier should pin these once,
    /// from a source it trusts, rather than take them from each export.
    package var trustPolicy: TrustPolicy { TrustPolicy(log: ledger.signer.verifier, witnesses: publisher.policy) }

    package struct TransparencyPage: Sendable {
        package let bundle: ProofBundle
        /// The index to pass as `after` for the next page; nil on the last.
        package let next: Int?
    }

    /// A page of a tenant's transparency export: every ledger entry about the tenant (its signup, accesses
    /// with their grants and decisions, migrations, lifecycle actions) up to the latest published checkpoint,
    /// each with its inclusion proof — a bundle anyone checks offline with the trusted keys
    /// (`Scripts/verify_bundle.py`). Other tenants' entries appear only as the hashes inside the proofs.
    package func transparency(tenant id: String, after: Int = -1, limit: Int = 500) throws -> TransparencyPage {
        guard try context.read({ try TenantRepository($0).tenant(id: id) }) != nil else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        guard let published = try publisher.latestPublished() else {
            throw ControllerError.conflict(
                code: "not_published",
                message:
                    "no checkpoint has been published yet (witness quorum \(publisher.policy.quorum)); entries wait for publication, try again shortly"
            )
        }
        let indices = try context.read {
            try LedgerRepository($0).indices(tenant: id, after: after, below: published.size, limit: limit + 1)
        }
        let page = Array(indices.prefix(limit))
        let bundle = try ledger.proofBundle(indices: page, checkpoint: published)
        return TransparencyPage(bundle: bundle, next: indices.count > limit ? page.last : nil)
    }
}
