import Dispatch
import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// The cross-border report, read from the ledger itself so every line is an entry an auditor can prove
/// against the signed checkpoint the report names.
///
/// A window narrower than the ledger's accesses is read through indexes (see `crossBorderReport`). Otherwise
/// two passes. The rare entries — filings, decisions, break-glass grants, refusals — are read whole and in
/// order. The `access.used` entries, which are nearly all of a busy ledger, are read in index slices on
/// every core at once, each entry scanned in place for the fields a line needs (`JSONObjectScanner`) rather
/// than parsed into a tree. A last pass walks the lines in ledger order and attaches to each the grant as the
/// ledger stood at that point.
extension ReportService {
    package func crossBorderReport(from: Int64, to: Int64, region: String?, tenant: String?) throws -> CrossBorderReport
    {
        try crossBorderReport(from: from, to: to, region: region, tenant: tenant, entriesPerSlice: 50_000)
    }

    /// `entriesPerSlice` is how small a ledger is read in one slice on one thread (tests set it low to
    /// exercise the slicing on a small ledger); `forceIndexes` reads through the indexes even when the window
    /// takes in everything (tests compare the two ways).
    func crossBorderReport(
        from: Int64, to: Int64, region: String?, tenant: String?, entriesPerSlice: Int, forceIndexes: Bool = false
    ) throws -> CrossBorderReport {
        try checkCrossBorderQuery(from: from, to: to, region: region)
        let now = clock.now()
        let checkpoint = try ledger.currentCheckpoint()
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: tenant)
        var accesses: [CrossBorderReport.Access]
        let rare: RareAccessEntries
        if try coversEveryAccess(filter) && !forceIndexes {
            rare = try rareAccessEntries(below: checkpoint.size, filter: filter)
            accesses = try accessLines(below: checkpoint.size, filter: filter, entriesPerSlice: entriesPerSlice)
        } else {
            accesses = try windowAccessLines(below: checkpoint.size, filter: filter)
            rare = try windowRareEntries(
                below: checkpoint.size, filter: filter, requests: Set(accesses.map(\.request)).sorted())
        }
        Self.attachGrants(to: &accesses, from: rare.grantEvents)
        let breakGlass = try breakGlassLines(rare.breakGlass, now: now)
        return CrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, generatedAt: now, policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint), accesses: accesses, breakGlass: breakGlass,
            refusals: rare.refusals,
            names: try reportNames(accesses: accesses, breakGlass: breakGlass, refusals: rare.refusals))
    }

    /// The same report written to `output` as its lines are read, never held whole: the same bytes as
    /// `crossBorderReport(...).rendered(format)`.
    package func streamCrossBorderReport(
        from: Int64, to: Int64, region: String?, tenant: String?, format: ReportFormat, to output: ReportOutput
    ) throws {
        try prepareCrossBorderReport(from: from, to: to, region: region, tenant: tenant).write(format, to: output)
    }

    func streamCrossBorderReport(
        from: Int64, to: Int64, region: String?, tenant: String?, format: ReportFormat, to output: ReportOutput,
        entriesPerSlice: Int
    ) throws {
        try prepareCrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, entriesPerSlice: entriesPerSlice
        ).write(format, to: output)
    }

    /// Everything a streamed report needs before its first byte: the query checked (a bad one throws here,
    /// before a server has answered anything) and the summary added up. Its `write` then reads the lines.
    ///
    /// The summary comes before the lines, so it is added up first. Over a period that takes in every access
    /// (and no tenant filter) it comes from the day rows `CrossBorderSummary` folds in as checkpoints are signed,
    /// plus the access entries signed since the last fold (`foldedTally`): the lines are then read once, to be
    /// written. Otherwise (a tenant's report, or the day rows not describing the period exactly) the access
    /// entries are read twice, a round of slices at a time: to add up the summary, and to write the lines. Both
    /// passes read below the same checkpoint, and the ledger below a checkpoint never changes, so they see the
    /// same lines. What is kept is bounded by the distinct keys (destinations, bases, justifications, staff,
    /// tenants, requests) and the rare entries (filings, decisions, break-glass grants, refusals), not by the
    /// accesses. The names beside the lines are looked up as the lines first name them (`LineNameBook`). A
    /// narrower window is read through the indexes in time order and put in ledger order in memory, so it holds
    /// the window's lines (a window's, not the ledger's).
    package func prepareCrossBorderReport(
        from: Int64, to: Int64, region: String?, tenant: String?, entriesPerSlice: Int = 50_000,
        useDayRows: Bool = true
    ) throws -> PreparedCrossBorderReport {
        try checkCrossBorderQuery(from: from, to: to, region: region)
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: tenant)
        guard try coversEveryAccess(filter) else {
            let report = try crossBorderReport(
                from: from, to: to, region: region, tenant: tenant, entriesPerSlice: entriesPerSlice)
            return PreparedCrossBorderReport(frame: report, lines: .held)
        }
        let now = clock.now()
        var checkpoint = try ledger.currentCheckpoint()
        var tally = AccessTally()
        let rare: RareAccessEntries
        let grants: GrantHistory
        if useDayRows, let folded = try foldedTally(filter: filter, entriesPerSlice: entriesPerSlice) {
            (checkpoint, tally, rare, grants) = folded
        } else {
            rare = try rareAccessEntries(below: checkpoint.size, filter: filter)
            grants = GrantHistory(events: rare.grantEvents)
            try forEachAccessLine(in: 0..<checkpoint.size, filter: filter, entriesPerSlice: entriesPerSlice) { line in
                var access = line
                access.grant = grants.grant(for: access)
                tally.add(access)
            }
        }
        let breakGlass = try breakGlassLines(rare.breakGlass, now: now)
        // The frame's own names: the break-glass grants', the refusals' and the destinations the summary charts.
        var keys = ReportNameKeys()
        for line in breakGlass { keys.add(tenant: line.tenant, destination: line.destination) }
        for line in rare.refusals { keys.add(tenant: line.tenant, destination: line.destination) }
        for item in tally.byDestination { keys.codes.insert(item.key) }
        let frame = CrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, generatedAt: now, policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint), accesses: [], breakGlass: breakGlass,
            refusals: rare.refusals, names: try reportNames(keys), tally: tally)
        return PreparedCrossBorderReport(
            frame: frame,
            lines: .ledger(
                service: self, below: checkpoint.size, filter: filter, grants: grants,
                entriesPerSlice: entriesPerSlice))
    }

    /// The summary of a report over `filter` — a period that takes in every access, any region, no tenant — from
    /// the day rows for the ledger folded in and from the entries for the rest, with the checkpoint, rare entries
    /// and grants read below the same size. Nil when the day rows cannot give the figures exactly: a tenant's
    /// report (the rows are not kept per tenant), or an access outside the period in the snapshot that the rows
    /// are read from (one recorded since the caller looked, with a time outside the period: a row of its day
    /// would count it). With every access in the period, a day row counts only accesses the report lists,
    /// whichever part of its day the period starts or ends in.
    func foldedTally(
        filter: CrossBorderFilter, entriesPerSlice: Int
    ) throws -> (LedgerRepository.StoredCheckpoint, AccessTally, RareAccessEntries, GrantHistory)? {
        guard filter.tenant == nil else { return nil }
        // The checkpoint, the summarised size, the time span of the accesses and the day rows from one snapshot,
        // so they describe one ledger.
        let snapshot = try context.read {
            database -> (LedgerRepository.StoredCheckpoint, Int, [ReportSummaryRepository.Total], [String])? in
            let ledger = LedgerRepository(database)
            guard let checkpoint = try ledger.latestCheckpoint() else { return nil }
            let summary = ReportSummaryRepository(database)
            let summarised = try summary.summarisedSize()
            guard summarised <= checkpoint.size else {
                throw ControllerError.storage(
                    "the report summary covers \(summarised) entries, past the latest checkpoint (\(checkpoint.size))")
            }
            if let span = try ledger.timeBounds(kind: LedgerKind.accessUsed.rawValue),
                span.earliest < filter.from || span.latest >= filter.to
            {
                return nil
            }
            let days = CrossBorderSummary.day(of: filter.from)..<(CrossBorderSummary.day(of: filter.to - 1) + 1)
            return (
                checkpoint, summarised, try summary.totals(days: days, region: filter.region),
                try summary.filerGrants(days: days, region: filter.region)
            )
        }
        guard let (checkpoint, summarised, totals, filerRequests) = snapshot else { return nil }
        let rare = try rareAccessEntries(below: checkpoint.size, filter: filter)
        let grants = GrantHistory(events: rare.grantEvents)
        var tally = AccessTally()
        for total in totals {
            tally.add(
                destination: total.destination, basis: total.basis, justification: total.justification,
                staff: total.staff, count: total.accesses)
        }
        for request in filerRequests { tally.addDecidedByFiler(request: request) }
        // Signed since the last fold: read from the ledger (a few hundred entries normally).
        try forEachAccessLine(in: summarised..<checkpoint.size, filter: filter, entriesPerSlice: entriesPerSlice) {
            line in
            var access = line
            access.grant = grants.grant(for: access)
            tally.add(access)
        }
        return (checkpoint, tally, rare, grants)
    }

    /// The lines pass of a streamed report: each slice of the ledger is read, given its grants and names and
    /// encoded on a worker thread (one per core), while this thread writes the encoded slices in ledger order
    /// (`OrderedEncodingPipeline`): writing overlaps encoding, and at most `maximumHeldSlices` encoded slices of
    /// `encodedSliceEntries` entries are held at once.
    fileprivate func writeAccessLines(
        of frame: CrossBorderReport, _ format: ReportFormat, to output: ReportOutput, below size: Int,
        filter: CrossBorderFilter, grants: GrantHistory, entriesPerSlice: Int
    ) throws {
        let pieces = frame.streamFrame(format)
        let book = LineNameBook(service: self)
        try output.write(bytes: pieces.head)
        let sliceLength = max(1, min(entriesPerSlice, Self.encodedSliceEntries))
        let sliceCount = (size + sliceLength - 1) / sliceLength
        let pipeline = OrderedEncodingPipeline(count: sliceCount, maximumHeld: Self.maximumHeldSlices)
        var written = false
        try pipeline.run(workers: Self.encodingThreads) { slice, bytes in
            let indices = (slice * sliceLength)..<min(size, (slice + 1) * sliceLength)
            var lines = try context.read { database in
                try Self.scanAccessLines(in: LedgerRepository(database), indices: indices, filter: filter)
            }
            for i in lines.indices { lines[i].grant = grants.grant(for: lines[i]) }
            let names = try book.names(covering: lines)
            bytes.reserveCapacity(lines.count * 512)
            frame.encodeLines(lines, format, names: names, into: &bytes)
        } write: { _, bytes in
            guard !bytes.isEmpty else { return }
            if written { try output.write(bytes: pieces.separator) }
            written = true
            try output.write(bytes: bytes)
        }
        try output.write(bytes: pieces.tail(linesWritten: written))
        try output.flush()
    }

    /// Entries per slice when slices are encoded: an encoded slice is held until written (~0.6 KiB a line).
    static let encodedSliceEntries = 8_192
    /// Encoded slices held at once (being encoded or waiting for an earlier one to be written).
    static let maximumHeldSlices = 4
    /// One encoding thread per core (at most `maximumHeldSlices`); the writer is this thread.
    static var encodingThreads: Int {
        min(maximumHeldSlices, max(1, ProcessInfo.processInfo.activeProcessorCount))
    }

    func checkCrossBorderQuery(from: Int64, to: Int64, region: String?) throws {
        guard from < to else {
            throw ControllerError.invalidField(field: "from", message: "must be before \"to\"")
        }
        if let region, policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: "region",
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
    }

    /// A window that takes in every access is read by scanning (in slices, on every core); a narrower one
    /// through the (kind, time) and request indexes, so its cost follows the window, not the ledger's age.
    /// Both read the same lines (CrossBorderReportTests holds them equal).
    private func coversEveryAccess(_ filter: CrossBorderFilter) throws -> Bool {
        let span = try context.read { try LedgerRepository($0).timeBounds(kind: LedgerKind.accessUsed.rawValue) }
        return span.map { filter.from <= $0.earliest && filter.to > $0.latest } ?? true
    }

    /// Break-glass grants with their review as the directory has it now.
    func breakGlassLines(_ pending: [PendingBreakGlass], now: Int64) throws -> [CrossBorderReport.BreakGlass] {
        try pending.map { item -> CrossBorderReport.BreakGlass in
            let current = try context.read { try AccessRepository($0).request(id: item.request) }
            let review =
                current?.reviewedAt != nil
                ? "reviewed" : (current?.isReviewOverdue(at: now) ?? false) ? "overdue" : "due"
            return CrossBorderReport.BreakGlass(
                ledgerIndex: item.ledgerIndex, time: item.time, tenant: item.tenant, region: item.region,
                request: item.request, staff: item.staff, destination: item.destination,
                justification: item.justification, review: review, reviewDueAt: current?.reviewDueAt)
        }
    }

    /// The names beside the ids and codes, looked up once per distinct tenant, country and transfer rule after
    /// the lines are read (the scan of `access.used` entries is not touched). A tenant is named while it
    /// exists; a deleted one keeps only its id, as the directory no longer vouches for the name.
    func reportNames(
        accesses: [CrossBorderReport.Access], breakGlass: [CrossBorderReport.BreakGlass],
        refusals: [CrossBorderReport.Refusal]
    ) throws -> ReportNames {
        var keys = ReportNameKeys()
        for access in accesses { keys.add(access) }
        for line in breakGlass { keys.add(tenant: line.tenant, destination: line.destination) }
        for line in refusals { keys.add(tenant: line.tenant, destination: line.destination) }
        return try reportNames(keys)
    }

    func reportNames(_ keys: ReportNameKeys) throws -> ReportNames {
        let (tenantIDs, codes, rules) = (keys.tenantIDs, keys.codes, keys.rules)
        let tenants = try context.read { database -> [String: String] in
            let directory = TenantRepository(database)
            var names: [String: String] = [:]
            for id in tenantIDs where !id.isEmpty {
                if let tenant = try directory.tenant(id: id), tenant.status != .deleted { names[id] = tenant.name }
            }
            return names
        }
        var countries: [String: String] = [:]
        for code in codes {
            if let country = CountryCode(code).flatMap(policies.catalog.countries.country) {
                countries[code] = country.name
            }
        }
        var bases: [ReportNames.BasisKey: TransferMechanism] = [:]
        for key in rules {
            if let mechanism = policies.transfers.mechanism(region: key.region, rule: key.rule) {
                bases[key] = mechanism
            }
        }
        return ReportNames(tenants: tenants, countries: countries, bases: bases)
    }

    /// Filings, decisions, break-glass grants and refusals below the checkpoint, parsed whole.
    private func rareAccessEntries(below size: Int, filter: CrossBorderFilter) throws -> RareAccessEntries {
        try context.read { (database: Database) throws -> RareAccessEntries in
            var rare = RareAccessEntries()
            try LedgerRepository(database).forEachEntry(
                kinds: (Self.grantKinds + Self.listedKinds).map(\.rawValue), below: size
            ) {
                index, bytes in
                try Self.collect(index: index, bytes: bytes, filter: filter, into: &rare, grants: true, listed: true)
            }
            return rare
        }
    }

    /// The same for a window: refusals and break-glass grants made in it, and the filings and decisions of the
    /// requests its accesses were made under (whenever those were made), each list in ledger order.
    func windowRareEntries(
        below size: Int, filter: CrossBorderFilter, requests: [String]
    ) throws -> RareAccessEntries {
        try context.read { (database: Database) throws -> RareAccessEntries in
            var rare = RareAccessEntries()
            let ledger = LedgerRepository(database)
            try ledger.forEachEntry(
                kinds: Self.listedKinds.map(\.rawValue), timeFrom: filter.from, to: filter.to, below: size
            ) {
                index, bytes in
                try Self.collect(index: index, bytes: bytes, filter: filter, into: &rare, grants: false, listed: true)
            }
            try ledger.forEachGrantEntry(requests: requests, below: size) { index, bytes in
                try Self.collect(index: index, bytes: bytes, filter: filter, into: &rare, grants: true, listed: false)
            }
            rare.grantEvents.sort { $0.ledgerIndex < $1.ledgerIndex }
            rare.breakGlass.sort { $0.ledgerIndex < $1.ledgerIndex }
            rare.refusals.sort { $0.ledgerIndex < $1.ledgerIndex }
            return rare
        }
    }

    /// Filings and decisions: they shape the grant an access is made under (a break-glass grant is one too).
    static let grantKinds: [LedgerKind] = [
        .accessRequested, .accessAutoApproved, .accessApproved, .accessDenied, .accessDismissed,
    ]
    /// Entries the report lists in their own right.
    static let listedKinds: [LedgerKind] = [.accessRefused, .accessUseRefused, .accessBreakGlass]

    /// Files one rare entry: as a grant event (`grants`) and/or as a listed refusal or break-glass grant
    /// (`listed`, when the filter admits it). Other kinds are ignored. Scanned in place for the fields the report
    /// uses, like the access lines: in a busy ledger filings and decisions are nearly as many as uses.
    static func collect(
        index: Int, bytes: UnsafeRawBufferPointer, filter: CrossBorderFilter, into rare: inout RareAccessEntries,
        grants: Bool, listed: Bool
    ) throws {
        func text(_ value: JSONRawValue) throws -> String {
            if let plain = value.plainStringContents { return String(decoding: plain, as: UTF8.self) }
            return try value.string() ?? ""
        }
        var kindName = ""
        var time: Int64 = 0
        var tenant = ""
        var region = ""
        var actor = ""
        var bodyBytes: UnsafeRawBufferPointer?
        try JSONObjectScanner.forEachMember(of: bytes) { key, value in
            if JSONObjectScanner.key(key, is: "kind") {
                kindName = try text(value)
            } else if JSONObjectScanner.key(key, is: "time") {
                time = value.int64 ?? 0
            } else if JSONObjectScanner.key(key, is: "tenant") {
                tenant = try text(value)
            } else if JSONObjectScanner.key(key, is: "region") {
                region = try text(value)
            } else if JSONObjectScanner.key(key, is: "actor") {
                actor = try text(value)
            } else if JSONObjectScanner.key(key, is: "body"), value.isObject {
                bodyBytes = value.bytes
            }
        }
        guard let kind = LedgerKind(rawValue: kindName) else { return }
        let isGrant = grantKinds.contains(kind) || kind == .accessBreakGlass
        let isListed = listed && listedKinds.contains(kind)
        guard (grants && isGrant) || isListed else { return }
        // A filing, decision, refusal or break-glass grant without its body would read as a grant or line with
        // every field empty: it stops the report, named.
        guard let bodyBytes else { throw damagedEntry(index: index, kind: kind, missing: "body object") }
        var body: [String: String] = [:]
        var breakGlass = false
        try JSONObjectScanner.forEachMember(of: bodyBytes) { key, value in
            if JSONObjectScanner.key(key, is: "break_glass") {
                breakGlass = value.bool ?? false
                return
            }
            for name in Self.bodyFields where JSONObjectScanner.key(key, is: name) {
                body[name.description] = try text(value)
            }
        }
        func field(_ name: String) -> String { body[name] ?? "" }
        if grants && isGrant {
            rare.grantEvents.append(
                GrantEvent(
                    ledgerIndex: index, kind: kind, request: field("request"), actor: actor, staff: field("staff"),
                    justification: field("justification"), ticket: field("detail"), basis: field("basis"),
                    basisRule: field("basis_rule"), breakGlass: breakGlass))
        }
        guard isListed, filter.admits(time: time, tenant: tenant, region: region) else { return }
        if kind == .accessBreakGlass {
            rare.breakGlass.append(
                PendingBreakGlass(
                    ledgerIndex: index, time: time, tenant: tenant, region: region, request: field("request"),
                    staff: field("staff"), destination: field("physical_country"),
                    justification: field("justification")))
        } else {
            // A refused filing carries no stage (the only kind recorded before decisions were); a refused decision
            // says so.
            let stage = kind == .accessRefused ? (body["stage"].flatMap { $0.isEmpty ? nil : $0 } ?? "filing") : "use"
            rare.refusals.append(
                CrossBorderReport.Refusal(
                    ledgerIndex: index, time: time, tenant: tenant, region: region,
                    stage: stage, staff: field("staff"),
                    destination: field("physical_country"),
                    code: kind == .accessRefused ? field("code") : field("refusal"), rule: field("rule"),
                    message: field("message")))
        }
    }

    /// The error for a ledger entry the report cannot read: it names the entry, so an operator can look at it.
    static func damagedEntry(index: Int, kind: LedgerKind, missing: String) -> ControllerError {
        .storage("ledger entry \(index) (\(kind.rawValue)) has no \(missing); the report cannot account for it")
    }

    /// The body fields a grant, a refusal or a break-glass line reads.
    static let bodyFields: [StaticString] = [
        "request", "justification", "detail", "basis", "basis_rule", "staff", "physical_country", "code", "refusal",
        "rule", "stage", "message",
    ]

    /// Every `access.used` entry below the checkpoint that the filter admits, as report lines in ledger
    /// order, with no grant attached yet.
    private func accessLines(
        below size: Int, filter: CrossBorderFilter, entriesPerSlice: Int
    ) throws -> [CrossBorderReport.Access] {
        var lines: [CrossBorderReport.Access] = []
        try forEachAccessLine(in: 0..<size, filter: filter, entriesPerSlice: entriesPerSlice) { lines.append($0) }
        return lines
    }

    /// Hands `body` every `access.used` entry at `indices` that the filter admits, as a report line in ledger
    /// order with no grant attached yet (`forEachSlice`).
    private func forEachAccessLine(
        in indices: Range<Int>, filter: CrossBorderFilter, entriesPerSlice: Int,
        _ body: (CrossBorderReport.Access) throws -> Void
    ) throws {
        try forEachSlice(of: indices, entriesPerSlice: entriesPerSlice) { slice in
            try context.read { database in
                try Self.scanAccessLines(in: LedgerRepository(database), indices: slice, filter: filter)
            }
        } deliver: { lines in
            for line in lines { try body(line) }
        }
    }

    /// Cuts `indices` into slices, runs `work` on them on all cores a round at a time (one slice per core, at most
    /// `maximumRound`), and hands each round's results to `deliver` in slice order, on this thread, before the
    /// next round is read: memory follows the round, not the ledger.
    private func forEachSlice<Result: Sendable>(
        of indices: Range<Int>, entriesPerSlice: Int, work: @Sendable (Range<Int>) throws -> Result,
        deliver: (Result) throws -> Void
    ) throws {
        guard !indices.isEmpty else { return }
        let workers = min(Self.maximumRound, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let size = indices.count
        let sliceCount = size < entriesPerSlice ? 1 : max(workers * 4, size / max(entriesPerSlice, 1))
        let sliceLength = (size + sliceCount - 1) / max(sliceCount, 1)
        let slices = (0..<sliceCount).map { i in
            (indices.lowerBound + min(size, i * sliceLength))..<(indices.lowerBound + min(size, (i + 1) * sliceLength))
        }
        var roundStart = 0
        while roundStart < slices.count {
            let round = roundStart..<min(slices.count, roundStart + workers)
            let results = Mutex<[Int: Result]>([:])
            let failure = Mutex<(any Error)?>(nil)
            let next = Atomic<Int>(round.lowerBound)
            DispatchQueue.concurrentPerform(iterations: round.count) { _ in
                while true {
                    let slice = next.add(1, ordering: .relaxed).oldValue
                    guard slice < round.upperBound, failure.withLock({ $0 == nil }) else { return }
                    do {
                        let result = try work(slices[slice])
                        results.withLock { $0[slice] = result }
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
            var parts = results.withLock { parts in
                defer { parts = [:] }
                return parts
            }
            for slice in round {
                guard let part = parts.removeValue(forKey: slice) else {
                    throw ControllerError.storage("a slice of the ledger was not scanned")
                }
                try deliver(part)
            }
            roundStart = round.upperBound
        }
    }

    /// Slices scanned at once, whatever the core count: bounds a streamed report's memory on a big machine.
    static let maximumRound = 8

    private static func scanAccessLines(
        in ledger: LedgerRepository, indices: Range<Int>, filter: CrossBorderFilter
    ) throws -> [CrossBorderReport.Access] {
        var lines: [CrossBorderReport.Access] = []
        var strings = StringInterner()
        try ledger.forEachEntry(kind: LedgerKind.accessUsed.rawValue, indices: indices) { index, bytes in
            if let line = try accessLine(index: index, bytes: bytes, filter: filter, strings: &strings) {
                lines.append(line)
            }
        }
        return lines
    }

    /// The `access.used` entries of a window, through the (kind, time) index, in ledger order.
    private func windowAccessLines(below size: Int, filter: CrossBorderFilter) throws -> [CrossBorderReport.Access] {
        var lines = try context.read { database -> [CrossBorderReport.Access] in
            var lines: [CrossBorderReport.Access] = []
            var strings = StringInterner()
            try LedgerRepository(database).forEachEntry(
                kinds: [LedgerKind.accessUsed.rawValue], timeFrom: filter.from, to: filter.to, below: size
            ) { index, bytes in
                if let line = try Self.accessLine(index: index, bytes: bytes, filter: filter, strings: &strings) {
                    lines.append(line)
                }
            }
            return lines
        }
        lines.sort { $0.ledgerIndex < $1.ledgerIndex }
        return lines
    }

    /// One `access.used` entry as a report line (no grant yet), scanned in place; nil when the filter refuses it.
    static func accessLine(
        index: Int, bytes: UnsafeRawBufferPointer, filter: CrossBorderFilter, strings: inout StringInterner
    ) throws -> CrossBorderReport.Access? {
        func text(_ value: JSONRawValue) throws -> String {
            if let plain = value.plainStringContents { return strings.string(plain) }
            return try value.string() ?? ""
        }
        var time: Int64 = 0
        var tenant = ""
        var region = ""
        var body: UnsafeRawBufferPointer?
        try JSONObjectScanner.forEachMember(of: bytes) { key, value in
            if JSONObjectScanner.key(key, is: "time") {
                time = value.int64 ?? 0
            } else if JSONObjectScanner.key(key, is: "tenant") {
                tenant = try text(value)
            } else if JSONObjectScanner.key(key, is: "region") {
                region = try text(value)
            } else if JSONObjectScanner.key(key, is: "body"), value.isObject {
                body = value.bytes
            }
        }
        // An access entry without its body cannot be reported, and leaving it out would under-count what an
        // auditor proves against the checkpoint: it stops the report, named.
        guard let body else { throw damagedEntry(index: index, kind: .accessUsed, missing: "body object") }
        guard filter.admits(time: time, tenant: tenant, region: region) else { return nil }
        var request = ""
        var staff = ""
        var destination = ""
        var dataClass = ""
        var mode = ""
        var resource = ""
        try JSONObjectScanner.forEachMember(of: body) { key, value in
            if JSONObjectScanner.key(key, is: "request") {
                request = try text(value)
            } else if JSONObjectScanner.key(key, is: "staff") {
                staff = try text(value)
            } else if JSONObjectScanner.key(key, is: "physical_country") {
                destination = try text(value)
            } else if JSONObjectScanner.key(key, is: "data_class") {
                dataClass = try text(value)
            } else if JSONObjectScanner.key(key, is: "mode") {
                mode = try text(value)
            } else if JSONObjectScanner.key(key, is: "resource") {
                resource = try text(value)
            }
        }
        return CrossBorderReport.Access(
            ledgerIndex: index, time: time, tenant: tenant, region: region, request: request, staff: staff,
            destination: destination, dataClass: dataClass, mode: mode, resource: resource, grant: .unknown)
    }

    /// Attaches to each line (in ledger order) the grant it was made under (`GrantWalker`).
    private static func attachGrants(to accesses: inout [CrossBorderReport.Access], from events: [GrantEvent]) {
        var walker = GrantWalker(events: events)
        for i in accesses.indices { accesses[i].grant = walker.grant(for: accesses[i]) }
    }
}

struct CrossBorderFilter: Sendable {
    let from: Int64
    let to: Int64
    let region: String?
    let tenant: String?

    func admits(time: Int64, tenant: String, region: String) -> Bool {
        time >= from && time < to && (self.region == nil || region == self.region)
            && (self.tenant == nil || tenant == self.tenant)
    }
}

/// A filing or decision about an access request, in ledger order.
struct GrantEvent: Sendable {
    let ledgerIndex: Int
    let kind: LedgerKind
    let request: String
    let actor: String
    /// The staff member the request is for (filings and decisions repeat it).
    let staff: String
    let justification: String
    let ticket: String
    let basis: String
    let basisRule: String
    let breakGlass: Bool
}

struct PendingBreakGlass: Sendable {
    let ledgerIndex: Int
    let time: Int64
    let tenant: String
    let region: String
    let request: String
    let staff: String
    let destination: String
    let justification: String
}

struct RareAccessEntries: Sendable {
    var grantEvents: [GrantEvent] = []
    var breakGlass: [PendingBreakGlass] = []
    var refusals: [CrossBorderReport.Refusal] = []
}

extension JSONValue {
    /// The string member `key`, or "" when absent or not a string: report cells are text.
    func text(_ key: String) -> String {
        if case .string(let s) = self[key] { return s }
        return ""
    }
}

/// A cross-border report ready to be written (`ReportService.prepareCrossBorderReport`): its frame — the
/// summary, names, break-glass grants, refusals and checkpoint — and where its access lines come from.
package struct PreparedCrossBorderReport: Sendable {
    enum Lines: Sendable {
        /// In the frame's `accesses` (a window).
        case held
        /// Read from the ledger as they are written.
        case ledger(
            service: ReportService, below: Int, filter: CrossBorderFilter, grants: GrantHistory, entriesPerSlice: Int)
    }

    package let frame: CrossBorderReport
    let lines: Lines

    /// Writes the report in `format` to `output`, ending with a flush. A throwing `output` (the reader gone)
    /// stops it.
    package func write(_ format: ReportFormat, to output: ReportOutput) throws {
        switch lines {
        case .held:
            try frame.stream(format, to: output)
        case .ledger(let service, let size, let filter, let grants, let entriesPerSlice):
            try service.writeAccessLines(
                of: frame, format, to: output, below: size, filter: filter, grants: grants,
                entriesPerSlice: entriesPerSlice)
        }
    }
}
