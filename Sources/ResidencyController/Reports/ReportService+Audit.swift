import Foundation
import ResidencyCore
import ResidencyStore

/// "Where is the data really?" — compares the local data plane's directories, and an inventory of stores the
/// controller does not own, with the directory and the residency policy.
extension ReportService {
    /// One line of an inventory: a tenant's data of a class, held at a location (country code or site id),
    /// by a named store.
    package struct InventoryItem: Sendable, Hashable {
        package let line: Int
        package let tenant: String
        package let dataClass: DataClassPolicy.DataClass
        package let location: String
        package let store: String
    }

    package struct AuditViolation: Sendable, Hashable {
        /// `residency_violation`, `stray_copy`, `missing_data`, `deleted_data_present`, `unknown_tenant`.
        package let kind: String
        package let tenant: String
        package let dataClass: String
        package let location: String
        package let source: String
        package let rule: String?
        package let message: String

        package var jsonValue: JSONValue {
            .object([
                ("kind", .string(kind)), ("tenant", .string(tenant)), ("data_class", .string(dataClass)),
                ("location", .string(location)), ("source", .string(source)), ("rule", .optional(rule)),
                ("message", .string(message)),
            ])
        }
    }

    package struct AuditResult: Sendable {
        package let checked: Int
        /// The violations found, the first `keepViolations` of them when the audit was asked for fewer.
        package let violations: [AuditViolation]
        /// Every violation found, kept or not.
        package let violationCount: Int
        package let countsByKind: [String: Int]
        /// The run's `residency.audit` entry; nil when it was not recorded.
        package let ledgerIndex: Int?
        package let policyVersion: String
    }

    /// Parses an inventory: CSV with the header `tenant,data_class,location[,store]`. Every malformed line is
    /// reported with its number.
    package func readInventory(_ text: String, file: String) throws -> [InventoryItem] {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        let header = lines.first?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        guard
            header == ["tenant", "data_class", "location"] || header == ["tenant", "data_class", "location", "store"]
        else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(
                    file: file, path: "line 1",
                    message: "the header must be tenant,data_class,location[,store]; found \"\(lines.first ?? "")\"")
            ])
        }
        var items: [InventoryItem] = []
        var problems: [ConfigurationProblem] = []
        for (offset, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let number = offset + 1
            guard fields.count == header.count else {
                problems.append(
                    ConfigurationProblem(
                        file: file, path: "line \(number)",
                        message:
                            "expected \(header.count) fields (\(header.joined(separator: ","))), found \(fields.count)")
                )
                continue
            }
            guard let dataClass = DataClassPolicy.DataClass(rawValue: fields[1]) else {
                problems.append(
                    ConfigurationProblem(
                        file: file, path: "line \(number)",
                        message:
                            "data_class \"\(fields[1])\"; accepted: \(DataClassPolicy.DataClass.allCases.map(\.rawValue).joined(separator: ", "))"
                    ))
                continue
            }
            do {
                _ = try directory.country(ofLocation: fields[2])
            } catch {
                problems.append(ConfigurationProblem(file: file, path: "line \(number)", message: "\(error)"))
                continue
            }
            items.append(
                InventoryItem(
                    line: number, tenant: fields[0], dataClass: dataClass, location: fields[2],
                    store: fields.count > 3 ? fields[3] : "inventory"))
        }
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
        return items
    }

    /// Audits the data plane (when this controller has one) and `inventory`. With `record` (an audit run) the
    /// run and its count of violations go on the ledger; without it (a report being read) nothing is written, so
    /// reading cannot grow the ledger.
    ///
    /// `keepViolations` bounds the violations kept in the result (a page shows the first ones); every one is still
    /// counted in `violationCount` and `countsByKind`. The directory's locations are read off an index, and only
    /// when the tenants table's change counter moved — and then only the tenants its log names, when it can
    /// (`TenantLocationsMemo`); the folders are compared with them only when a listing or the counter changed, and
    /// after a change of a few tenants only those tenants are compared again (`DataPlaneComparison`).
    package func audit(
        inventory: [InventoryItem] = [], record: Bool = true, keepViolations: Int = .max, by actor: String
    ) throws -> AuditResult {
        var violations: [AuditViolation] = []
        var counts: [String: Int] = [:]
        func found(_ violation: @autoclosure () -> AuditViolation, kind: String) {
            counts[kind, default: 0] += 1
            if violations.count < keepViolations { violations.append(violation()) }
        }
        var checked = 0
        func tenant(_ id: String) throws -> Tenant? { try context.read { try TenantRepository($0).tenant(id: id) } }
        if let dataPlane {
            // A folder that cannot be listed throws (FolderListingError names it and the errno): reading it as "no
            // data" would hide the very thing an audit is for.
            let listings = try dataPlane.regionsOnDisk().map {
                (region: $0, listing: try dataPlane.tenantListing(in: $0))
            }
            if listings.contains(where: { !$0.listing.names.isEmpty }) {
                // The comparison depends only on the listings and the directory's locations: kept while the folders'
                // listings (their generations) and the tenants table's change counter are the same, so an
                // unchanged data plane costs a stat per folder and a counter read, not 100,000 tenants.
                let reading = try context.read { try locationsMemo.homes(in: $0) }
                let key = DataPlaneComparison.Key(
                    changes: reading.changes, lineage: reading.lineage,
                    folders: listings.map { .init(region: $0.region, generation: $0.listing.generation) })
                let comparison = dataPlaneComparisons.comparison(
                    for: key, homes: reading.homes, folders: dataPlaneComparisons.folders(listings)
                ) { from, to in locationsMemo.tenantsChanged(from: from, to: to, lineage: reading.lineage) }
                checked += comparison.checked
                for finding in comparison.findings {
                    switch finding {
                    case .unknown(let id, let region):
                        found(
                            AuditViolation(
                                kind: "unknown_tenant", tenant: id, dataClass: "customer_data", location: region,
                                source: "data plane", rule: nil,
                                message: "data for a tenant the directory does not know"),
                            kind: "unknown_tenant")
                    case .deleted(let id, let region):
                        found(
                            AuditViolation(
                                kind: "deleted_data_present", tenant: id, dataClass: "customer_data", location: region,
                                source: "data plane", rule: nil, message: "the tenant is deleted but its data is here"),
                            kind: "deleted_data_present")
                    case .missing(let id, let home):
                        found(
                            AuditViolation(
                                kind: "missing_data", tenant: id, dataClass: "customer_data",
                                location: home, source: "data plane", rule: nil,
                                message: "no data in the tenant's home region"),
                            kind: "missing_data")
                    case .away(let id, let home, let region):
                        // Decided at every view: migrations and the tenant's record are not part of the comparison.
                        if let active = try context.read({ try MigrationRepository($0).active(tenant: id) }),
                            active.toRegion == region
                        {
                            continue  // a migration's copy in flight
                        }
                        let location = policies.catalog.region(id: region)?.sites.first?.id ?? region
                        if let full = try tenant(id),
                            let violation = try placementViolation(
                                full, dataClass: .customerData, location: location, source: "data plane")
                        {
                            found(violation, kind: violation.kind)
                        } else {
                            found(
                                AuditViolation(
                                    kind: "stray_copy", tenant: id, dataClass: "customer_data", location: region,
                                    source: "data plane", rule: nil,
                                    message:
                                        "a copy outside the tenant's home region \(home) with no migration under way"
                                ), kind: "stray_copy")
                        }
                    }
                }
            } else {
                // No tenant data on disk here (every region's data elsewhere, or none written): every tenant that is
                // not deleted misses its data, so they are counted (kept per change counter, like the map's counts)
                // and only the kept ones read, in id order — the same violations as the comparison gives, without
                // reading 100,000 tenants for a page.
                let missingCount = try context.read { try locationsMemo.liveCountsByCountry(in: $0) }
                    .reduce(0) { $0 + $1.tenants }
                let kept = min(missingCount, max(0, keepViolations - violations.count))
                let homes =
                    kept == 0 ? [] : try context.read { try TenantRepository($0).liveHomes(after: nil, limit: kept) }
                for home in homes {
                    violations.append(
                        AuditViolation(
                            kind: "missing_data", tenant: home.id, dataClass: "customer_data", location: home.region,
                            source: "data plane", rule: nil, message: "no data in the tenant's home region"))
                }
                if missingCount > 0 { counts["missing_data", default: 0] += missingCount }
            }
        }
        for item in inventory {
            checked += 1
            guard let entry = try tenant(item.tenant) else {
                found(
                    AuditViolation(
                        kind: "unknown_tenant", tenant: item.tenant, dataClass: item.dataClass.rawValue,
                        location: item.location, source: "\(item.store) (line \(item.line))", rule: nil,
                        message: "the directory has no such tenant"), kind: "unknown_tenant")
                continue
            }
            if entry.status == .deleted {
                found(
                    AuditViolation(
                        kind: "deleted_data_present", tenant: item.tenant, dataClass: item.dataClass.rawValue,
                        location: item.location, source: "\(item.store) (line \(item.line))", rule: nil,
                        message: "the tenant is deleted but this store still holds its data"),
                    kind: "deleted_data_present")
                continue
            }
            if let violation = try placementViolation(
                entry, dataClass: item.dataClass, location: item.location, source: "\(item.store) (line \(item.line))")
            {
                found(violation, kind: violation.kind)
            }
        }
        let violationCount = counts.values.reduce(0, +)
        guard record else {
            return AuditResult(
                checked: checked, violations: violations, violationCount: violationCount, countsByKind: counts,
                ledgerIndex: nil, policyVersion: policies.version.hex)
        }
        let index = try context.commit { transaction in
            try transaction.append(
                .residencyAudit, time: clock.now(), actor: actor,
                body: .object([
                    ("checked", .integer(checked)), ("violations", .integer(violationCount)),
                    ("by_kind", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
                    ("policy_version", .string(policies.version.hex)),
                ]))
        }
        return AuditResult(
            checked: checked, violations: violations, violationCount: violationCount, countsByKind: counts,
            ledgerIndex: index, policyVersion: policies.version.hex)
    }

    /// The data-class check for data of `tenant` at `location`: a violation when policy refuses it.
    private func placementViolation(
        _ tenant: Tenant, dataClass: DataClassPolicy.DataClass, location: String, source: String
    ) throws -> AuditViolation? {
        guard let region = policies.catalog.region(id: tenant.region) else { return nil }
        let verdict = policies.dataClasses.check(
            dataClass, region: region, country: try directory.country(ofLocation: location))
        guard !verdict.allowed else { return nil }
        return AuditViolation(
            kind: "residency_violation", tenant: tenant.id, dataClass: dataClass.rawValue, location: location,
            source: source, rule: verdict.rule, message: verdict.message)
    }
}
