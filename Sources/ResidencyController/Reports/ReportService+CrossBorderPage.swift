import ResidencyCore
import ResidencyStore

/// One page of a cross-border report, for a browser: the report's whole summary, break-glass grants and refusals,
/// and a bounded run of its access lines. Its cost follows the days of the period and the page, not the accesses
/// in the period: the summary adds up the day rows `CrossBorderSummary` keeps, and reads entries only for the
/// part of a day at either end of the period and for the ledger signed since the rows were last folded.
package struct CrossBorderPage: Sendable {
    /// The frame (summary, names, break-glass grants, refusals, checkpoint) with this page's lines in `accesses`.
    package let report: CrossBorderReport
    /// Where the next page starts (`after` of the next call); nil on the last page.
    package let nextAfter: Int?
    /// Where the next page of break-glass grants starts (`breakGlassAfter`); nil on their last page.
    package let nextBreakGlassAfter: Int?
    /// Where the next page of refusals starts (`refusalsAfter`); nil on their last page.
    package let nextRefusalsAfter: Int?
}

/// Where a page of each list of a cross-border page starts: after a ledger index (keyset paging: a page is the same
/// whatever was appended since), nil for the first page.
package struct CrossBorderPageCursors: Sendable, Equatable {
    package var accesses: Int?
    package var breakGlass: Int?
    package var refusals: Int?

    package init(accesses: Int? = nil, breakGlass: Int? = nil, refusals: Int? = nil) {
        self.accesses = accesses
        self.breakGlass = breakGlass
        self.refusals = refusals
    }
}

extension ReportService {
    /// Lines on one page at most (a caller's `limit` is held to this).
    package static let maximumPageLines = 500

    /// The report over `from..<to` with at most `limit` of its access lines, those after ledger index `after`
    /// (nil: from the first), and at most `limit` of its break-glass grants and of its refusals, those after
    /// `cursors.breakGlass` and `cursors.refusals`. The figures are the full report's (`CrossBorderSummaryTests`).
    package func crossBorderPage(
        from: Int64, to: Int64, region: String?, tenant: String?, after: Int?, limit: Int,
        cursors: CrossBorderPageCursors = CrossBorderPageCursors()
    ) throws -> CrossBorderPage {
        try checkCrossBorderQuery(from: from, to: to, region: region)
        let limit = min(max(1, limit), Self.maximumPageLines)
        var cursors = cursors
        cursors.accesses = after
        if let tenant {
            return try tenantPage(from: from, to: to, region: region, tenant: tenant, cursors: cursors, limit: limit)
        }
        let now = clock.now()
        _ = try ledger.currentCheckpoint()  // signs (and so folds in) anything unsigned
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: nil)
        // The whole days inside the period (none when it lies within one or two part days).
        let firstDay = CrossBorderSummary.day(of: from)
        let wholeFrom = firstDay * CrossBorderSummary.dayLength == from ? firstDay : firstDay + 1
        let wholeTo = CrossBorderSummary.day(of: to)
        let days = wholeFrom < wholeTo ? wholeFrom..<wholeTo : 0..<0
        // The checkpoint, the summarised size and the day rows from one snapshot, so they describe one ledger.
        let (checkpoint, summarised, totals, filerRequests) = try context.read {
            database -> (LedgerRepository.StoredCheckpoint, Int, [ReportSummaryRepository.Total], [String]) in
            guard let checkpoint = try LedgerRepository(database).latestCheckpoint() else {
                throw ControllerError.notFound(kind: "checkpoint", id: "latest")
            }
            let summary = ReportSummaryRepository(database)
            let summarised = try summary.summarisedSize()
            guard summarised <= checkpoint.size else {
                throw ControllerError.storage(
                    "the report summary covers \(summarised) entries, past the latest checkpoint (\(checkpoint.size))")
            }
            guard !days.isEmpty else { return (checkpoint, summarised, [], []) }
            return (
                checkpoint, summarised, try summary.totals(days: days, region: region),
                try summary.filerGrants(days: days, region: region)
            )
        }
        let size = checkpoint.size
        // What the day rows do not hold: the part days at either end (below the summarised size), and every
        // access signed since the last fold.
        let edges: [Range<Int64>] =
            days.isEmpty
            ? [from..<to]
            : [
                from..<(days.lowerBound * CrossBorderSummary.dayLength),
                (days.upperBound * CrossBorderSummary.dayLength)..<to,
            ]
        var scanned = try context.read { database -> [CrossBorderReport.Access] in
            let repository = LedgerRepository(database)
            var lines: [CrossBorderReport.Access] = []
            var strings = StringInterner()
            func take(_ index: Int, _ bytes: UnsafeRawBufferPointer) throws {
                if let line = try Self.accessLine(index: index, bytes: bytes, filter: filter, strings: &strings) {
                    lines.append(line)
                }
            }
            for edge in edges where !edge.isEmpty {
                try repository.forEachEntry(
                    kinds: [LedgerKind.accessUsed.rawValue], timeFrom: edge.lowerBound, to: edge.upperBound,
                    below: summarised, take)
            }
            if summarised < size {
                try repository.forEachEntry(kind: LedgerKind.accessUsed.rawValue, indices: summarised..<size, take)
            }
            lines.sort { $0.ledgerIndex < $1.ledgerIndex }
            try CrossBorderSummary.attachGrants(to: &lines, in: repository, below: size)
            return lines
        }
        var tally = AccessTally()
        var span: ClosedRange<Int>?
        func widen(_ range: ClosedRange<Int>) {
            span = span.map { min($0.lowerBound, range.lowerBound)...max($0.upperBound, range.upperBound) } ?? range
        }
        for total in totals {
            tally.add(
                destination: total.destination, basis: total.basis, justification: total.justification,
                staff: total.staff, count: total.accesses)
            widen(total.firstIndex...total.lastIndex)
        }
        for request in filerRequests { tally.addDecidedByFiler(request: request) }
        for line in scanned {
            tally.add(line)
            widen(line.ledgerIndex...line.ledgerIndex)
        }
        scanned = []
        let (lines, nextAfter) = try pageLines(in: span, after: after, limit: limit, filter: filter, below: size)
        return try page(
            of: lines, tally: tally, filter: filter, checkpoint: checkpoint, now: now, nextAfter: nextAfter,
            cursors: cursors, limit: limit)
    }

    /// A tenant's own report (a tenant administrator's): the day rows are not kept per tenant, so its lines are
    /// read whole off the tenant index — its own history, not the period's accesses — and cut to the page.
    private func tenantPage(
        from: Int64, to: Int64, region: String?, tenant: String, cursors: CrossBorderPageCursors, limit: Int
    ) throws -> CrossBorderPage {
        let after = cursors.accesses
        let now = clock.now()
        let checkpoint = try ledger.currentCheckpoint()
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: tenant)
        let accesses = try context.read { database -> [CrossBorderReport.Access] in
            let repository = LedgerRepository(database)
            var lines: [CrossBorderReport.Access] = []
            var strings = StringInterner()
            try repository.forEachEntry(tenant: tenant, kind: LedgerKind.accessUsed.rawValue, below: checkpoint.size) {
                index, bytes in
                if let line = try Self.accessLine(index: index, bytes: bytes, filter: filter, strings: &strings) {
                    lines.append(line)
                }
            }
            try CrossBorderSummary.attachGrants(to: &lines, in: repository, below: checkpoint.size)
            return lines
        }
        var tally = AccessTally()
        for access in accesses { tally.add(access) }
        let rest = accesses.filter { $0.ledgerIndex > (after ?? -1) }
        let lines = Array(rest.prefix(limit))
        return try page(
            of: lines, tally: tally, filter: filter, checkpoint: checkpoint, now: now,
            nextAfter: rest.count > limit ? lines.last?.ledgerIndex : nil, cursors: cursors, limit: limit)
    }

    /// A page of the report: its lines and whole tally, with a page of the period's break-glass grants and of its
    /// refusals (read below the checkpoint; counted in full) and the names of everything it shows — the same for a
    /// region's page and a tenant's.
    ///
    /// The rare entries of the period are read whole to be counted (and each break-glass grant's review state
    /// looked up, for the overdue count), as the full report does; only a page of each is named and shown.
    private func page(
        of lines: [CrossBorderReport.Access], tally: AccessTally, filter: CrossBorderFilter,
        checkpoint: LedgerRepository.StoredCheckpoint, now: Int64, nextAfter: Int?, cursors: CrossBorderPageCursors,
        limit: Int
    ) throws -> CrossBorderPage {
        let rare = try windowRareEntries(below: checkpoint.size, filter: filter, requests: [])
        let allBreakGlass = try breakGlassLines(rare.breakGlass, now: now)
        let counts = CrossBorderReport.ListedCounts(
            breakGlass: allBreakGlass.count, overdueReviews: allBreakGlass.filter { $0.review == "overdue" }.count,
            refusals: rare.refusals.count)
        let (breakGlass, nextBreakGlass) = Self.keysetPage(
            allBreakGlass, after: cursors.breakGlass, limit: limit, index: \.ledgerIndex)
        let (refusals, nextRefusals) = Self.keysetPage(
            rare.refusals, after: cursors.refusals, limit: limit, index: \.ledgerIndex)
        var keys = ReportNameKeys()
        for line in lines { keys.add(line) }
        for line in breakGlass { keys.add(tenant: line.tenant, destination: line.destination) }
        for line in refusals { keys.add(tenant: line.tenant, destination: line.destination) }
        for item in tally.byDestination { keys.codes.insert(item.key) }
        let report = CrossBorderReport(
            from: filter.from, to: filter.to, region: filter.region, tenant: filter.tenant, generatedAt: now,
            policyVersion: policies.version.hex, checkpoint: Self.reportCheckpoint(checkpoint), accesses: lines,
            breakGlass: breakGlass, refusals: refusals, names: try reportNames(keys), tally: tally,
            listedCounts: counts)
        return CrossBorderPage(
            report: report, nextAfter: nextAfter, nextBreakGlassAfter: nextBreakGlass, nextRefusalsAfter: nextRefusals)
    }

    /// The first `limit` of `rows` (in ledger order) whose index is past `after`, and the cursor of the next page
    /// (the last row's index) when more follow.
    static func keysetPage<Row>(
        _ rows: [Row], after: Int?, limit: Int, index: (Row) -> Int
    ) -> (rows: [Row], next: Int?) {
        let rest = rows.drop(while: { index($0) <= (after ?? -1) })
        let page = Array(rest.prefix(limit))
        return (page, rest.count > limit ? page.last.map(index) : nil)
    }

    /// The first `limit` lines after `after` that the filter admits, read in ledger order off the (kind, idx)
    /// index within `span` — the first and last index of the period's lines — a stretch at a time, with their
    /// grants; and where the next page starts.
    private func pageLines(
        in span: ClosedRange<Int>?, after: Int?, limit: Int, filter: CrossBorderFilter, below size: Int
    ) throws -> (lines: [CrossBorderReport.Access], nextAfter: Int?) {
        guard let span else { return ([], nil) }
        var start = max(span.lowerBound, (after ?? -1) + 1)
        let end = min(size, span.upperBound + 1)
        return try context.read { database in
            let repository = LedgerRepository(database)
            var lines: [CrossBorderReport.Access] = []
            var strings = StringInterner()
            while start < end && lines.count <= limit {
                let stretch = start..<min(end, start + 4 * limit)
                try repository.forEachEntry(kind: LedgerKind.accessUsed.rawValue, indices: stretch) { index, bytes in
                    guard lines.count <= limit else { return }
                    if let line = try Self.accessLine(index: index, bytes: bytes, filter: filter, strings: &strings) {
                        lines.append(line)
                    }
                }
                start = stretch.upperBound
            }
            let more = lines.count > limit
            if more { lines.removeLast(lines.count - limit) }
            try CrossBorderSummary.attachGrants(to: &lines, in: repository, below: size)
            return (lines, more ? lines.last?.ledgerIndex : nil)
        }
    }
}
