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
        guard from < to else {
            throw ControllerError.invalidField(field: "from", message: "must be before \"to\"")
        }
        if let region, policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: "region",
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
        let now = clock.now()
        let checkpoint = try ledger.currentCheckpoint()
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: tenant)
        // A window that takes in every access is read by scanning (in slices, on every core); a narrower one
        // through the (kind, time) and request indexes, so its cost follows the window, not the ledger's age.
        // Both read the same lines (CrossBorderReportTests holds them equal).
        let span = try context.read { try LedgerRepository($0).timeBounds(kind: LedgerKind.accessUsed.rawValue) }
        let coversEveryAccess = span.map { from <= $0.earliest && to > $0.latest } ?? true
        var accesses: [CrossBorderReport.Access]
        let rare: RareAccessEntries
        if coversEveryAccess && !forceIndexes {
            rare = try rareAccessEntries(below: checkpoint.size, filter: filter)
            accesses = try accessLines(below: checkpoint.size, filter: filter, entriesPerSlice: entriesPerSlice)
        } else {
            accesses = try windowAccessLines(below: checkpoint.size, filter: filter)
            rare = try windowRareEntries(
                below: checkpoint.size, filter: filter, requests: Set(accesses.map(\.request)).sorted())
        }
        Self.attachGrants(to: &accesses, from: rare.grantEvents)
        let breakGlass = try rare.breakGlass.map { item -> CrossBorderReport.BreakGlass in
            let current = try context.read { try AccessRepository($0).request(id: item.request) }
            let review =
                current?.reviewedAt != nil
                ? "reviewed" : (current?.isReviewOverdue(at: now) ?? false) ? "overdue" : "due"
            return CrossBorderReport.BreakGlass(
                ledgerIndex: item.ledgerIndex, time: item.time, tenant: item.tenant, region: item.region,
                request: item.request, staff: item.staff, destination: item.destination,
                justification: item.justification, review: review, reviewDueAt: current?.reviewDueAt)
        }
        return CrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, generatedAt: now, policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint), accesses: accesses, breakGlass: breakGlass,
            refusals: rare.refusals,
            names: try reportNames(accesses: accesses, breakGlass: breakGlass, refusals: rare.refusals))
    }

    /// The names beside the ids and codes, looked up once per distinct tenant, country and transfer rule after
    /// the lines are read (the scan of `access.used` entries is not touched). Consecutive lines mostly repeat
    /// the previous line's values, so only a change is hashed. A tenant is named while it exists; a deleted
    /// one keeps only its id, as the directory no longer vouches for the name.
    private func reportNames(
        accesses: [CrossBorderReport.Access], breakGlass: [CrossBorderReport.BreakGlass],
        refusals: [CrossBorderReport.Refusal]
    ) throws -> ReportNames {
        var tenantIDs = Set<String>()
        var codes = Set<String>()
        var rules = Set<ReportNames.BasisKey>()
        var last: (tenant: String, destination: String, region: String, rule: String)?
        for access in accesses {
            if last?.tenant != access.tenant { tenantIDs.insert(access.tenant) }
            if last?.destination != access.destination { codes.insert(access.destination) }
            if last?.region != access.region || last?.rule != access.basisRule {
                rules.insert(.init(region: access.region, rule: access.basisRule))
            }
            last = (access.tenant, access.destination, access.region, access.basisRule)
        }
        for line in breakGlass {
            tenantIDs.insert(line.tenant)
            codes.insert(line.destination)
        }
        for line in refusals {
            tenantIDs.insert(line.tenant)
            codes.insert(line.destination)
        }
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
    private func windowRareEntries(
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
    private static func collect(
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
        var body: [String: String] = [:]
        var breakGlass = false
        if let bodyBytes {
            try JSONObjectScanner.forEachMember(of: bodyBytes) { key, value in
                if JSONObjectScanner.key(key, is: "break_glass") {
                    breakGlass = value.bool ?? false
                    return
                }
                for name in Self.bodyFields where JSONObjectScanner.key(key, is: name) {
                    body[name.description] = try text(value)
                }
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

    /// The body fields a grant, a refusal or a break-glass line reads.
    static let bodyFields: [StaticString] = [
        "request", "justification", "detail", "basis", "basis_rule", "staff", "physical_country", "code", "refusal",
        "rule", "stage", "message",
    ]

    /// Every `access.used` entry below the checkpoint that the filter admits, as report lines in ledger
    /// order, with no grant attached yet. Slices of the index range are scanned on all cores.
    private func accessLines(
        below size: Int, filter: CrossBorderFilter, entriesPerSlice: Int
    ) throws -> [CrossBorderReport.Access] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let sliceCount = size < entriesPerSlice ? 1 : max(workers * 4, size / max(entriesPerSlice, 1))
        let sliceLength = (size + sliceCount - 1) / max(sliceCount, 1)
        let slices = (0..<sliceCount).map { i in min(size, i * sliceLength)..<min(size, (i + 1) * sliceLength) }
        let results = Mutex<[Int: [CrossBorderReport.Access]]>([:])
        let failure = Mutex<(any Error)?>(nil)
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(workers, sliceCount)) { _ in
            while true {
                let slice = next.add(1, ordering: .relaxed).oldValue
                guard slice < slices.count, failure.withLock({ $0 == nil }) else { return }
                do {
                    let lines = try context.read { database in
                        try Self.scanAccessLines(in: LedgerRepository(database), indices: slices[slice], filter: filter)
                    }
                    results.withLock { $0[slice] = lines }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return try results.withLock { parts in
            var lines: [CrossBorderReport.Access] = []
            lines.reserveCapacity(parts.values.reduce(0) { $0 + $1.count })
            for slice in slices.indices {
                guard let part = parts.removeValue(forKey: slice) else {
                    throw ControllerError.storage("a slice of the ledger was not scanned")
                }
                lines.append(contentsOf: part)
            }
            return lines
        }
    }

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
    private static func accessLine(
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
        guard filter.admits(time: time, tenant: tenant, region: region), let body else { return nil }
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

    /// Walks the lines and the grant events together in ledger order, so each access carries the grant as it
    /// stood when the access was made (a later denial does not rewrite an earlier approved access).
    ///
    /// A decision made by the token that filed the request, or by the staff member it was for, is flagged
    /// (`decidedByFiler`): refused since separation of duties was enforced, such grants may still stand in
    /// the ledger from before. The flag is worked out once per decision, here, never per access line.
    private static func attachGrants(to accesses: inout [CrossBorderReport.Access], from events: [GrantEvent]) {
        var grants: [String: CrossBorderReport.Grant] = [:]
        var filers: [String: (actor: String, staff: String)] = [:]
        var next = 0
        // A filing opens a grant; a decision (whose body repeats the request as decided) replaces one that
        // was filed, and is ignored for a request the ledger never saw filed.
        func apply(_ event: GrantEvent) {
            let decision: String
            let decidedBy: String
            var decidedByFiler = false
            switch event.kind {
            case .accessRequested, .accessAutoApproved, .accessBreakGlass:
                filers[event.request] = (event.actor, event.staff)
                switch event.kind {
                case .accessRequested: (decision, decidedBy) = ("pending", "")
                case .accessAutoApproved: (decision, decidedBy) = ("auto-approved", "policy")
                default: (decision, decidedBy) = ("break-glass", "")
                }
            default:
                guard grants[event.request] != nil else { return }
                (decision, decidedBy) = (String(event.kind.rawValue.dropFirst("access.".count)), event.actor)
                if let filer = filers[event.request] {
                    decidedByFiler = event.actor == filer.actor || event.actor == filer.staff
                }
            }
            grants[event.request] = CrossBorderReport.Grant(
                justification: event.justification, ticket: event.ticket, basis: event.basis,
                basisRule: event.basisRule, decision: decision, decidedBy: decidedBy, breakGlass: event.breakGlass,
                decidedByFiler: decidedByFiler)
        }
        for i in accesses.indices {
            while next < events.count, events[next].ledgerIndex < accesses[i].ledgerIndex {
                apply(events[next])
                next += 1
            }
            accesses[i].grant = grants[accesses[i].request] ?? .unknown
        }
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
