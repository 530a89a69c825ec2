import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyServer

/// No caller chooses how fast the ledger grows: a revoked token hammering the API, reading reports, and text
/// fields stuffed with what Swift counts as one character.
extension HostileCallerTests {
    func ledgerSize() throws -> Int {
        try controller.pool.read { try LedgerRepository($0).size() }
    }

    /// 3,000 calls of a revoked token over a few routes add one entry per route, then one summary that counts
    /// every other call; a second flood in the next period costs the same again, not more.
    @Test func aRevokedTokenFloodLeavesTheLedgerBounded() throws {
        let targets = [
            ("GET", "/v1/tenants"), ("GET", "/v1/tenants/\(tenant)"), ("GET", "/v1/migrations"),
            ("POST", "/v1/tenants"),
        ]
        for period in 0..<2 {
            let before = try ledgerSize()
            var calls = 0
            for round in 0..<750 {
                for (method, target) in targets {
                    let answer = send(method, target, token: revoked, body: method == "POST" ? "{\"r\":\(round)}" : nil)
                    #expect(answer.status == 401)
                    calls += 1
                }
            }
            // One durable entry per (token, reason, method, route) so far, whatever the number of calls.
            #expect(try ledgerSize() - before == targets.count, "period \(period)")
            let index = try controller.tokens.closeRefusalPeriod()
            #expect(index != nil)
            #expect(try ledgerSize() - before == targets.count + 1)
            let summary = try #require(try ledgerEntries(kind: "api.refused.summary").last)
            #expect(summary["body"]?["refused"] == .integer(calls - targets.count))
            guard case .array(let counted)? = summary["body"]?["calls"] else {
                Issue.record("no calls in the summary")
                continue
            }
            #expect(counted.count == targets.count)
            #expect(counted.allSatisfy { $0["token"] == .string("gone") && $0["count"] == .integer(749) })
        }
        // A quiet period writes nothing.
        #expect(try controller.tokens.closeRefusalPeriod() == nil)
        // The ledger still verifies.
        #expect(throws: Never.self) { try controller.ledger.signCheckpoint(force: true) }
    }

    /// Reading the residency map any number of times records nothing; asking for an audit run records one.
    @Test func readingAReportDoesNotGrowTheLedger() throws {
        let before = try ledgerSize()
        for _ in 0..<5 {
            let answer = send("GET", "/v1/reports/residency-map", token: tokens[.compliance])
            #expect(answer.status == 200)
            #expect(answer.json?["audit_ledger_index"] == .null)
        }
        #expect(try ledgerSize() == before)
        let run = send("POST", "/v1/reports/residency-map", token: tokens[.ops])
        #expect(run.status == 200)
        #expect(run.json?["audit_ledger_index"] == .integer(before))
        #expect(try ledgerEntries(kind: "residency.audit").count == 1)
        #expect(send("POST", "/v1/reports/residency-map", token: tokens[.ops], body: "{}").status == 400)
    }

    /// One letter and 500,000 combining marks is one Swift character and a megabyte: refused by UTF-8 bytes on
    /// every free-text field, with the limit and its unit in the message; nothing is written.
    @Test func textLimitsCountBytesOnEveryField() throws {
        let stuffed = "e" + String(repeating: "\u{0301}", count: 500_000)
        #expect(stuffed.count == 1)
        let tenants = try tenantCount()
        let before = try ledgerSize()
        func refused(_ answer: (status: Int, json: JSONValue?), _ what: String) {
            #expect(answer.status == 400 || answer.status == 422, "\(what): \(answer.status)")
            guard case .string(let message)? = answer.json?["error"]?["message"] else {
                Issue.record("\(what): no message")
                return
            }
            #expect(message.contains("bytes"), "\(what): \(message)")
        }
        let quoted = JSONValue.string(stuffed).encoded()
        refused(
            send("POST", "/v1/tenants", token: tokens[.signup], body: #"{"name": \#(quoted), "plan": "paid", "country": "FR"}"#),
            "tenant name")
        refused(
            send(
                "POST", "/v1/tenants/\(other)/migrations", token: tokens[.ops],
                body: #"{"to_region": "eu", "to_site": "eu-ie-dublin", "reason": \#(quoted)}"#), "migration reason")
        let filing =
            #"{"tenant": "\#(other)", "staff": {"id": "s-2", "entity": "Residency Inc.", "role": "support engineer", "office": "austin"}, "physical_country": "US", "justification": "customer_support", "detail": \#(quoted), "scope": {"data_classes": ["customer_data"], "mode": "read"}}"#
        refused(send("POST", "/v1/access-requests", token: tokens[.support], body: filing), "access detail")
        let staffFiling = filing.replacingOccurrences(of: "\"s-2\"", with: quoted).replacingOccurrences(
            of: quoted + "\", \"scope", with: "\"T-1\", \"scope")
        refused(send("POST", "/v1/access-requests", token: tokens[.support], body: staffFiling), "staff id")
        refused(
            send("POST", "/v1/access-requests/\(request)/deny", token: tokens[.compliance], body: #"{"reason": \#(quoted)}"#),
            "decision reason")
        #expect(try tenantCount() == tenants)
        #expect(try ledgerEntries(kind: "access.denied").isEmpty)
        #expect(try ledgerSize() == before)
    }
}


extension HostileCallerTests {
    /// A tenant's administrator reads every ledger entry about its tenant with proofs that verify against the
    /// published checkpoint, and nothing about another tenant.
    @Test func aTenantAdministratorReadsItsTransparencyExport() throws {
        _ = try controller.publisher.publish()
        let answer = Self.send(application, "GET", "/v1/tenants/\(tenant)/transparency", token: scopedCompliance)
        #expect(answer.status == 200)
        let json = try #require(answer.json)
        let bundle = try ProofBundle(parsing: json.encodedBytes())
        #expect(!bundle.items.isEmpty)
        for item in bundle.items {
            let entry = try JSONParser.parse(item.entry)
            #expect(entry["tenant"] == .string(tenant))
        }
        let verified = try bundle.verify(trust: controller.transparency.trustPolicy)
        #expect(verified.checkpoint.size == (try controller.publisher.latestPublished()?.size))
        // Another tenant's export is not found for this token, and recorded as a refused call.
        #expect(send("GET", "/v1/tenants/\(other)/transparency", token: scopedCompliance).status == 404)
        // Paging and bad queries.
        let first = send("GET", "/v1/tenants/\(tenant)/transparency?limit=1", token: tokens[.compliance])
        #expect(first.status == 200)
        if bundle.items.count > 1 { #expect(first.json?["next_after"] != .null) }
        #expect(send("GET", "/v1/tenants/\(tenant)/transparency?limit=0", token: tokens[.compliance]).status == 400)
        #expect(send("GET", "/v1/tenants/\(tenant)/transparency?after=-3", token: tokens[.compliance]).status == 400)
    }
}

extension HostileCallerTests {
    /// A token lookup the store cannot answer is a 503 to retry, not a 401 telling a good token it is bad, and it
    /// is not remembered: once the store answers again the same token works.
    @Test func aStoreErrorDuringATokenLookupIs503NotUnknown() throws {
        let fresh = try TokenService.createToken(name: "fresh", role: .admin, pool: controller.pool)
        try controller.pool.write { try $0.execute("ALTER TABLE tokens RENAME TO tokens_away") }
        let during = send("GET", "/v1/tenants", token: fresh)
        try controller.pool.write { try $0.execute("ALTER TABLE tokens_away RENAME TO tokens") }
        #expect(during.status == 503)
        #expect(during.json?["error"]?["code"] == .string("storage_unavailable"))
        #expect(send("GET", "/v1/tenants", token: fresh).status == 200)
    }
}
