import ResidencyCore
import Synchronization

/// The names beside a streamed report's lines (tenant names, country names, transfer bases), looked up the first
/// time a line names them and kept for the rest of the report. A streamed report does not read its lines before
/// it writes them, so it cannot look the names up all at once beforehand; the slices encoded on several threads
/// share this book, so each tenant is still looked up once. Each lookup is the one `ReportService.reportNames`
/// makes for a report built whole, so the lines read the same.
final class LineNameBook: Sendable {
    private struct Known {
        var names = ReportNames()
        var tenants = Set<String>()
        var codes = Set<String>()
        var rules = Set<ReportNames.BasisKey>()
    }

    private let service: ReportService
    private let known = Mutex(Known())

    init(service: ReportService) {
        self.service = service
    }

    /// Names covering every tenant, destination and transfer rule of `lines` (and only those: a slice's names
    /// cost what the slice names, however many tenants the report has met before).
    func names(covering lines: [CrossBorderReport.Access]) throws -> ReportNames {
        var keys = ReportNameKeys()
        for line in lines { keys.add(line) }
        let missing = known.withLock { known in
            var missing = ReportNameKeys()
            missing.tenantIDs = keys.tenantIDs.subtracting(known.tenants)
            missing.codes = keys.codes.subtracting(known.codes)
            missing.rules = keys.rules.subtracting(known.rules)
            return missing
        }
        let found =
            missing.tenantIDs.isEmpty && missing.codes.isEmpty && missing.rules.isEmpty
            ? ReportNames() : try service.reportNames(missing)
        return known.withLock { known in
            known.tenants.formUnion(missing.tenantIDs)
            known.codes.formUnion(missing.codes)
            known.rules.formUnion(missing.rules)
            known.names.tenants.merge(found.tenants) { old, _ in old }
            known.names.countries.merge(found.countries) { old, _ in old }
            known.names.bases.merge(found.bases) { old, _ in old }
            var names = ReportNames()
            for id in keys.tenantIDs { names.tenants[id] = known.names.tenants[id] }
            for code in keys.codes { names.countries[code] = known.names.countries[code] }
            for rule in keys.rules { names.bases[rule] = known.names.bases[rule] }
            return names
        }
    }
}
