import Foundation
import ResidencyController
import ResidencyCore

// MARK: Overview

extension Console {
    /// A whole console page for a signed-in visitor.
    func page(_ title: String, _ visitor: ConsoleVisitor, _ body: String, script: String? = nil) -> HTTPResponse {
        html(
            HTML.page(
                title: title, signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: body, script: script))
    }

    /// The states of a migration that has not finished.
    static let inFlightStates: [MigrationState] = MigrationState.allCases.filter {
        ![.completed, .failed, .cancelled].contains($0)
    }

    /// The regions (status, capacity, tenants, health), the map, what waits for the visitor (approvals, reviews,
    /// migrations in flight) and the latest published checkpoint. Each figure is read from memory (region counts) or
    /// through an index (requests and migrations by state), so the page costs the same with 100,000 tenants.
    func overview(_ visitor: ConsoleVisitor) throws -> HTTPResponse {
        let caller = visitor.caller
        let counts = controller.directory.tenantCounts
        var rows: [[String]] = []
        for region in controller.policies.catalog.regions {
            var health = "served in process"
            if let view = controller.directory.regionalServiceView(region: region.id),
                case .string(let state)? = view["state"]
            {
                health = "regional service: " + state
            }
            let tenants = counts[region.id, default: 0]
            let share = region.capacity > 0 ? tenants * 100 / region.capacity : 0
            rows.append([
                "<a href=\"/console/tenants?by=region&amp;q=\(HTML.escape(region.id))\">\(HTML.escape(region.id))</a>",
                HTML.escape(region.name),
                HTML.escape(region.status.rawValue)
                    + (region.acceptsSignups ? ", accepts signups" : ", no new signups"),
                "\(tenants) of \(region.capacity) (\(share)%)",
                HTML.escape(health),
            ])
        }
        var cards: [String] = []
        if [.compliance, .admin].contains(caller.role) {
            let pending = try controller.access.accessRequests(
                tenant: caller.tenant, state: .pending, region: nil, limit: 1000)
            cards.append(
                "<p><a href=\"/console/access\"><strong>\(pending.count)\(pending.count == 1000 ? "+" : "")</strong> access request\(pending.count == 1 ? "" : "s") waiting for a decision</a></p>"
            )
            let now = controller.clock.now()
            let due = try controller.access.accessRequests(tenant: caller.tenant, state: nil, region: nil, limit: 1000)
                .filter { $0.isBreakGlass && $0.reviewedAt == nil }
            let overdue = due.filter { $0.isReviewOverdue(at: now) }.count
            cards.append(
                "<p><a href=\"/console/access#reviews\"><strong>\(due.count)</strong> break-glass review\(due.count == 1 ? "" : "s") due</a> (\(overdue) overdue)</p>"
            )
        }
        var inFlight = ""
        if caller.tenant == nil, [.ops, .compliance, .admin].contains(caller.role) {
            var running: [Migration] = []
            for state in Self.inFlightStates {
                running += try controller.migrations.migrations(tenant: nil, state: state, plan: nil, limit: 100)
            }
            cards.append(
                "<p><a href=\"/console/migrations\"><strong>\(running.count)</strong> migration\(running.count == 1 ? "" : "s") in flight</a></p>"
            )
            inFlight = HTML.table(
                caption: "Migrations in flight", columns: ["Migration", "Tenant", "Move", "State"],
                rows: running.prefix(10).map { migration in
                    [
                        "<a href=\"/console/migrations/\(HTML.escape(migration.id))\">\(HTML.escape(migration.id))</a>",
                        HTML.escape(migration.tenant),
                        "\(HTML.escape(migration.fromRegion))/\(HTML.escape(migration.fromSite)) → \(HTML.escape(migration.toRegion))/\(HTML.escape(migration.toSite))",
                        HTML.escape(migration.state.rawValue),
                    ]
                }, empty: "No migration is in flight.")
        }
        let checkpoint: String
        if let published = try controller.publisher.latestPublished() {
            let lines = published.note.split(separator: "\n", omittingEmptySubsequences: false)
            let root = lines.count > 2 ? String(lines[2]) : "?"
            checkpoint =
                "<p>The latest signed checkpoint covers <strong>\(published.size)</strong> ledger entries; root <code>\(HTML.escape(root))</code>. <a href=\"/console/ledger\">Check an entry</a>.</p>"
        } else {
            checkpoint = "<p>No checkpoint is published yet.</p>"
        }
        cards.append(checkpoint)
        return page(
            "Overview", visitor,
            """
            <section aria-label="Waiting for you" class="cards">\(cards.joined())</section>
            <h2>Where tenants live</h2>
            \(WorldMap.svg(regions: controller.policies.catalog.regions, tenants: counts))
            \(HTML.table(caption: "Regions", columns: ["Region", "Name", "Status", "Tenants of capacity", "Health"], rows: rows))
            \(inFlight)
            """)
    }
}
