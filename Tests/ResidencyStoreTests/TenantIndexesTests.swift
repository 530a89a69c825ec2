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
    /// index for a region (a region id written into the text or, any other text, a parameter), the ids' index
    /// otherwise — each with the cursor as a range, and no sort.
    @Test func everyFilterReadsAnIndexFromTheCursorOn() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        _ = try Self.fill(database)
        func plan(region: String?, status: TenantStatus?) throws -> String {
            let page = TenantRepository.pageQuery(region: region, status: status, after: "tn_1", limit: 10)
            let statement = try Statement(database: database, sql: "EXPLAIN QUERY PLAN " + page.sql)
            return try statement.rows(page.values) { $0.text(3) }.joined(separator: "; ")
        }
        for region in [nil, "eu", "x'y"] {
            for status in TenantStatus.allCases where status != .active {
                #expect(
                    try plan(region: region, status: status)
                        == "SEARCH tenants USING INDEX tenants_status (status=? AND id>?)")
            }
        }
        for status in [nil, TenantStatus.active] {
            for region in ["eu", "x'y"] {
                #expect(
                    try plan(region: region, status: status)
                        == "SEARCH tenants USING INDEX tenants_region_id (region=? AND id>?)")
            }
            #expect(
                try plan(region: nil, status: status)
                    == "SEARCH tenants USING INDEX sqlite_autoindex_tenants_1 (id>?)")
        }
        // Text that is not a region id stays a parameter: nothing of it is in the statement.
        let odd = TenantRepository.pageQuery(region: "eu' OR '1'='1", status: nil, after: nil, limit: 10)
        #expect(!odd.sql.contains("OR '1'"))
        #expect(try database.statement(odd.sql).rows(odd.values) { $0.text(0) }.isEmpty)
    }

    /// On PostgreSQL, past the five runs after which it plans a prepared statement once for any parameters: a
    /// page of a rare status and of a small region still reads the status index and the region's index, not every
    /// tenant in id order (20,000 tenants, 1 % deleted, 1 % in the small region).
    @Test func postgresKeepsReadingTheIndexesOnceThePlanIsGeneric() throws {
        guard let database = try StoreBackendTests.migrated(.postgres) else { return }
        try database.execute(
            """
            INSERT INTO tenants (id, name, plan, country, region, site, status, created_at, policy_version)
            SELECT 'tn_' || lpad(n::text, 8, '0'), 'T' || n, 'paid', 'DE',
                CASE WHEN n % 100 = 7 THEN 'small' ELSE 'eu' END, 'eu-de-frankfurt',
                CASE WHEN n % 100 = 3 THEN 'deleted' ELSE 'active' END, 1700000000000, 'abc'
            FROM generate_series(1, 20000) AS n;
            ANALYZE tenants
            """)
        for (region, status, index) in [
            (nil, TenantStatus.deleted, "tenants_status"), ("small", nil, "tenants_region_id"),
            ("small", .active, "tenants_region_id"),
        ] {
            let page = TenantRepository.pageQuery(region: region, status: status, after: nil, limit: 101)
            let name = "page_\(index)_\(status?.rawValue ?? "any")"
            try database.execute("PREPARE \(name) AS " + PostgresDialect.translate(page.sql))
            let arguments = page.values.map { value -> String in
                switch value {
                case .text(let text): return "'\(text)'"
                case .integer(let integer): return String(integer)
                default: return "NULL"
                }
            }.joined(separator: ", ")
            for _ in 0..<7 { try database.execute("EXECUTE \(name)(\(arguments))") }
            let plan = try database.statement("EXPLAIN EXECUTE \(name)(\(arguments))").rows([]) { $0.text(0) }
                .joined(separator: "\n")
            #expect(plan.contains(index), "\(region ?? "any") \(status?.rawValue ?? "any"):\n\(plan)")
            #expect(!plan.contains("tenants_pkey"), "\(plan)")
        }
    }
}
