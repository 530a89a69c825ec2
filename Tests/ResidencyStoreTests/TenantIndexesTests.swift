import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 17: the tenants indexes a signup writes. Two that nothing read are gone (tenants_location,
/// tenants_region_status), the status index holds only tenants that are not active, and a page of tenants
/// filtered by region or status reads an index on both stores.
@Suite struct TenantIndexesTests {
    static let regions = ["eu", "uk", "us"]
    static let statuses: [TenantStatus] = [.active, .active, .suspended, .active, .closed, .deleted, .active]

    /// 84 tenants: regions and statuses in cycles of different lengths, so every pair occurs; ids in no
    /// particular relation to either.
    static func fill(_ database: Database) throws -> [Tenant] {
        let tenants = (0..<84).map { index in
            DatabaseTests.tenant(
                "tn_\((index * 37) % 84 + 100)\(index % 2 == 0 ? "a" : "b")",
                region: regions[index % regions.count], status: statuses[index % statuses.count])
        }
        try database.write { for tenant in tenants { try TenantRepository(database).insert(tenant) } }
        return tenants
    }

    static func indexes(_ database: Database) throws -> Set<String> {
        let sql =
            database.isPostgres
            ? "SELECT indexname FROM pg_indexes WHERE tablename = 'tenants' AND schemaname = current_schema()"
            : "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tenants'"
        return Set(try database.statement(sql).rows([]) { $0.text(0) })
    }

    /// A store at version 16 with tenants of every status, upgraded: every tenant is there, the two indexes are
    /// gone, and the status index holds exactly the tenants that are not active.
    @Test(arguments: StoreBackend.allCases)
    func version17KeepsEveryTenantAndIndexesOnlyThoseNotActive(_ backend: StoreBackend) throws {
        guard let database = try backend.database(atVersion: 16) else { return }
        let tenants = try Self.fill(database)
        #expect(try Self.indexes(database).isSuperset(of: ["tenants_location", "tenants_region_status"]))
        try database.migrate(upTo: 17)
        #expect(try database.schemaVersion() == 17)
        let indexes = try Self.indexes(database)
        #expect(indexes.isDisjoint(with: ["tenants_location", "tenants_region_status"]), "\(indexes)")
        #expect(indexes.isSuperset(of: ["tenants_status", "tenants_region_id", "tenants_country", "tenants_name"]))
        #expect(try database.scalarInteger("SELECT count(*) FROM tenants") == Int64(tenants.count))
        guard !database.isPostgres else { return }
        #expect(try database.scalarText("PRAGMA integrity_check") == "ok")
        let indexed = try database.scalarInteger(
            "SELECT count(*) FROM tenants INDEXED BY tenants_status WHERE status != 'active'")
        #expect(indexed == Int64(tenants.filter { $0.status != .active }.count))
        #expect(indexed! > 0)
    }

    /// The program of a signup's insert: seven index entries at version 16, five now — and of those the status
    /// index's only behind its condition, which an active tenant does not meet.
    @Test func aSignupWritesFewerIndexes() throws {
        let database = try Database(path: ":memory:")
        try database.migrate(upTo: 16)
        func indexWrites() throws -> Int {
            try SignupInsertTests.program(database, SignupInsertTests.tenantInsert).filter { $0.opcode == "IdxInsert" }
                .count
        }
        #expect(try indexWrites() == 7)
        try database.migrate()
        #expect(try indexWrites() == 5)
        try database.write { try TenantRepository(database).insert(DatabaseTests.tenant("tn_active")) }
        #expect(
            try database.scalarInteger("SELECT count(*) FROM tenants INDEXED BY tenants_status WHERE status != 'active'")
                == 0)
    }

    /// Each filter's page pages through exactly the tenants a filter over all of them keeps, in id order, on both
    /// stores: every region (and one with none), every status and none, seven at a time.
    @Test(arguments: StoreBackend.allCases)
    func everyFilterPagesThroughTheTenantsItKeeps(_ backend: StoreBackend) throws {
        guard let database = try StoreBackendTests.migrated(backend) else { return }
        let tenants = try Self.fill(database)
        let repository = TenantRepository(database)
        for region in [nil, "nowhere"] + Self.regions {
            for status in [nil] + TenantStatus.allCases {
                var paged: [String] = []
                var cursor: String?
                while true {
                    let page = try repository.tenants(region: region, status: status, after: cursor, limit: 7)
                    paged += page.map(\.id)
                    guard page.count == 7 else { break }
                    cursor = page.last?.id
                }
                let expected = tenants.filter {
                    (region == nil || $0.region == region) && (status == nil || $0.status == status)
                }.map(\.id).sorted()
                #expect(paged == expected, "region \(region ?? "any"), status \(status?.rawValue ?? "any")")
            }
        }
    }

    /// What SQLite plans for each filter: the partial status index for a status that is not active, the region's
    /// index for a region, the ids' index otherwise — each with the cursor as a range, and no sort.
    @Test func everyFilterReadsAnIndexFromTheCursorOn() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        _ = try Self.fill(database)
        func plan(region: Bool, status: TenantStatus?) throws -> String {
            try Statement(
                database: database,
                sql: "EXPLAIN QUERY PLAN " + TenantRepository.pageSQL(region: region, status: status)
            ).rows { $0.text(3) }.joined(separator: "; ")
        }
        for region in [false, true] {
            for status in TenantStatus.allCases where status != .active {
                #expect(
                    try plan(region: region, status: status)
                        == "SEARCH tenants USING INDEX tenants_status (status=? AND id>?)")
            }
        }
        for status in [nil, TenantStatus.active] {
            #expect(
                try plan(region: true, status: status)
                    == "SEARCH tenants USING INDEX tenants_region_id (region=? AND id>?)")
            #expect(
                try plan(region: false, status: status)
                    == "SEARCH tenants USING INDEX sqlite_autoindex_tenants_1 (id>?)")
        }
    }
}
