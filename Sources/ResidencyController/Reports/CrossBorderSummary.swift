import ResidencyCore
import ResidencyStore

/// The cross-border report's access figures, kept a day at a time beside the ledger (schema version 12), so a
/// period's summary adds up a few rows a day instead of reading every access entry in the period.
///
/// The ledger below a signed checkpoint never changes, so the figures of a stretch of it are final once it is
/// signed: each checkpoint's signing folds in the stretch it signs, in the same transaction (`Ledger`), and a
/// controller opening a store written before version 12 folds in the rest first. A fold reads the stretch's
/// `access.used` entries and the filings and decisions of their requests, attaches to each access its grant as
/// the ledger stood at that access (`GrantWalker`, as the full report does), and adds each line to the row of
/// its day, region, destination, basis, justification and staff member. `CrossBorderSummaryTests` holds a
/// summary built from these rows equal to the full report's.
enum CrossBorderSummary {
    static let dayLength: Int64 = 86_400_000
    /// Entries folded in by one checkpoint's signing at most: a few hundred normally (a checkpoint every hundred
    /// entries), so this bounds only a store catching up.
    static let stretchPerCheckpoint = 20_000

    /// The UTC day number of a time in milliseconds (rounding down before 1970 too).
    static func day(of time: Int64) -> Int64 {
        let quotient = time / dayLength
        return time % dayLength < 0 ? quotient - 1 : quotient
    }

    /// Folds the entries from the summarised size up to `size` (at most `limit` of them) into the day rows,
    /// inside the caller's write transaction. Returns the summarised size after it.
    @discardableResult
    static func fold(in database: Database, below size: Int, limit: Int) throws -> Int {
        let summary = ReportSummaryRepository(database)
        let start = try summary.summarisedSize()
        let end = min(size, start + max(1, limit))
        guard start < end else { return start }
        let everything = CrossBorderFilter(from: .min, to: .max, region: nil, tenant: nil)
        let ledger = LedgerRepository(database)
        var lines: [CrossBorderReport.Access] = []
        var strings = StringInterner()
        try ledger.forEachEntry(kind: LedgerKind.accessUsed.rawValue, indices: start..<end) { index, bytes in
            if let line = try ReportService.accessLine(
                index: index, bytes: bytes, filter: everything, strings: &strings)
            {
                lines.append(line)
            }
        }
        try attachGrants(to: &lines, in: ledger, below: end)
        struct Key: Hashable {
            let day: Int64
            let region: String
            let destination: String
            let basis: String
            let justification: String
            let staff: String
        }
        var rows: [Key: ReportSummaryRepository.DayRow] = [:]
        for line in lines {
            let day = day(of: line.time)
            let key = Key(
                day: day, region: line.region, destination: line.destination, basis: line.basis,
                justification: line.justification, staff: line.staff)
            if var row = rows[key] {
                row.accesses += 1
                row.lastIndex = line.ledgerIndex
                rows[key] = row
            } else {
                rows[key] = ReportSummaryRepository.DayRow(
                    day: day, region: line.region, destination: line.destination, basis: line.basis,
                    justification: line.justification, staff: line.staff, accesses: 1, firstIndex: line.ledgerIndex,
                    lastIndex: line.ledgerIndex)
            }
            if line.decidedByFiler {
                try summary.addFilerGrant(day: day, region: line.region, request: line.request)
            }
        }
        for row in rows.values { try summary.add(row) }
        try summary.setSummarisedSize(end)
        return end
    }

    /// Folds in everything below the latest checkpoint, a stretch per transaction: a store upgraded to version
    /// 12 starts with nothing summarised.
    static func catchUp(_ pool: DatabasePool, stretch: Int = 100_000) throws {
        while true {
            let done = try pool.write { database -> Bool in
                guard let signed = try LedgerRepository(database).latestCheckpoint()?.size else { return true }
                return try fold(in: database, below: signed, limit: stretch) >= signed
            }
            if done { return }
        }
    }

    /// Attaches to each line (in ledger order) its grant as the ledger stood at it, from the filings and
    /// decisions of the lines' own requests below `end`. A request's grant depends only on its own entries, so
    /// this gives every line the grant the full report's walk over all of them gives.
    static func attachGrants(
        to lines: inout [CrossBorderReport.Access], in ledger: LedgerRepository, below end: Int
    ) throws {
        guard !lines.isEmpty else { return }
        var rare = RareAccessEntries()
        let everything = CrossBorderFilter(from: .min, to: .max, region: nil, tenant: nil)
        try ledger.forEachGrantEntry(requests: Set(lines.map(\.request)).sorted(), below: end) { index, bytes in
            try ReportService.collect(
                index: index, bytes: bytes, filter: everything, into: &rare, grants: true, listed: false)
        }
        rare.grantEvents.sort { $0.ledgerIndex < $1.ledgerIndex }
        var walker = GrantWalker(events: rare.grantEvents)
        for i in lines.indices { lines[i].grant = walker.grant(for: lines[i]) }
    }
}
