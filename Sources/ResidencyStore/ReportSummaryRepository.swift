/// The cross-border report's figures added up a day at a time (schema version 12): the rows
/// `CrossBorderSummary` folds in as the ledger is signed, and the sums a period's summary reads back.
package struct ReportSummaryRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    /// One day's count of accesses in one region under one figure key, with the ledger indexes it spans.
    package struct DayRow: Sendable, Hashable {
        package let day: Int64
        package let region: String
        package let destination: String
        package let basis: String
        package let justification: String
        package let staff: String
        package var accesses: Int
        package var firstIndex: Int
        package var lastIndex: Int

        package init(
            day: Int64, region: String, destination: String, basis: String, justification: String, staff: String,
            accesses: Int, firstIndex: Int, lastIndex: Int
        ) {
            self.day = day
            self.region = region
            self.destination = destination
            self.basis = basis
            self.justification = justification
            self.staff = staff
            self.accesses = accesses
            self.firstIndex = firstIndex
            self.lastIndex = lastIndex
        }
    }

    /// A period's sum for one figure key (days and regions merged).
    package struct Total: Sendable, Hashable {
        package let destination: String
        package let basis: String
        package let justification: String
        package let staff: String
        package let accesses: Int
        package let firstIndex: Int
        package let lastIndex: Int
    }

    /// Every ledger entry below this index is added up in the tables.
    package func summarisedSize() throws -> Int {
        Int(try database.scalarInteger("SELECT size FROM report_summary_state WHERE id = 1") ?? 0)
    }

    package func setSummarisedSize(_ size: Int) throws {
        try database.statement("UPDATE report_summary_state SET size = ? WHERE id = 1").run([.integer(Int64(size))])
    }

    /// Adds `row` to the day's row of its key (creating it): counts add, the index span widens.
    package func add(_ row: DayRow) throws {
        // CASE rather than SQLite's two-argument min/max, which PostgreSQL spells LEAST/GREATEST.
        try database.statement(
            """
            INSERT INTO report_access_days
                (day, region, destination, basis, justification, staff, accesses, first_index, last_index)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (day, region, destination, basis, justification, staff) DO UPDATE SET
                accesses = report_access_days.accesses + excluded.accesses,
                first_index = CASE WHEN excluded.first_index < report_access_days.first_index
                    THEN excluded.first_index ELSE report_access_days.first_index END,
                last_index = CASE WHEN excluded.last_index > report_access_days.last_index
                    THEN excluded.last_index ELSE report_access_days.last_index END
            """
        ).run([
            .integer(row.day), .text(row.region), .text(row.destination), .text(row.basis), .text(row.justification),
            .text(row.staff), .integer(Int64(row.accesses)), .integer(Int64(row.firstIndex)),
            .integer(Int64(row.lastIndex)),
        ])
    }

    /// Records that an access on `day` in `region` was made under a grant its own filer decided.
    package func addFilerGrant(day: Int64, region: String, request: String) throws {
        try database.statement("INSERT OR IGNORE INTO report_filer_grants (day, region, request) VALUES (?, ?, ?)")
            .run([.integer(day), .text(region), .text(request)])
    }

    /// The sums over days `days` (UTC day numbers), in every region or one, per figure key.
    package func totals(days: Range<Int64>, region: String?) throws -> [Total] {
        try database.statement(
            """
            SELECT destination, basis, justification, staff, sum(accesses), min(first_index), max(last_index)
            FROM report_access_days
            WHERE day >= ?1 AND day < ?2 AND (?3 IS NULL OR region = ?3)
            GROUP BY destination, basis, justification, staff
            """
        ).rows([.integer(days.lowerBound), .integer(days.upperBound), .optional(region)]) {
            Total(
                destination: $0.text(0), basis: $0.text(1), justification: $0.text(2), staff: $0.text(3),
                accesses: Int($0.integer(4)), firstIndex: Int($0.integer(5)), lastIndex: Int($0.integer(6)))
        }
    }

    /// The distinct requests decided by their filer with an access in `days`, in every region or one.
    package func filerGrants(days: Range<Int64>, region: String?) throws -> [String] {
        try database.statement(
            """
            SELECT DISTINCT request FROM report_filer_grants
            WHERE day >= ?1 AND day < ?2 AND (?3 IS NULL OR region = ?3)
            """
        ).rows([.integer(days.lowerBound), .integer(days.upperBound), .optional(region)]) { $0.text(0) }
    }
}
