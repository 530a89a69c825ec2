import Foundation

/// Everything a decision depends on: the region catalog and the four policies, with one version.
///
/// The version is the SHA-256 of one canonical JSON document holding every region file and every policy
/// file, so any change that could change a decision changes the version recorded with it.
package struct PolicySet: Sendable {
    package let catalog: RegionCatalog
    package let residency: ResidencyPolicy
    package let transfers: TransferPolicy
    package let access: AccessPolicy
    package let retention: RetentionPolicy
    package let dataClasses: DataClassPolicy
    package let version: SHA256Digest

    /// The policy files a `Policies/` directory holds; any other `.json` file there is a mistake.
    package static let fileNames = [
        "access.json", "data-classes.json", "residency.json", "retention.json", "transfers.json",
    ]

    /// Loads and validates the regions and policies, throwing every problem found.
    package static func load(regions: URL, policies: URL) throws(ConfigurationError) -> PolicySet {
        let collector = ProblemCollector()
        let set = load(regions: regions, policies: policies, collector: collector)
        try collector.throwIfAny()
        return set!
    }

    /// Loads what it can, reporting problems to `collector`; `nil` when anything was wrong.
    package static func load(regions: URL, policies: URL, collector: ProblemCollector) -> PolicySet? {
        let catalog = RegionCatalog.load(from: regions, collector: collector)
        var documents: [String: JSONValue] = [:]
        if let listing = try? FileManager.default.contentsOfDirectory(atPath: policies.path) {
            for name in listing.sorted() where name.hasSuffix(".json") && !fileNames.contains(name) {
                collector.report(
                    file: DisplayPath.of(policies.appendingPathComponent(name)), path: "-",
                    "unknown policy file; accepted files: \(fileNames.joined(separator: ", "))")
            }
        } else {
            collector.report(file: DisplayPath.of(policies), path: "-", "cannot list the policies directory")
            return nil
        }
        func reader(_ name: String) -> JSONReader? {
            let url = policies.appendingPathComponent(name)
            let display = DisplayPath.of(url)
            guard FileManager.default.fileExists(atPath: url.path) else {
                collector.report(file: display, path: "-", "missing policy file")
                return nil
            }
            guard let document = JSONFile.read(url, displayName: display, collector: collector) else { return nil }
            documents[name] = document
            return JSONReader(value: document, file: display, collector: collector)
        }
        let residency = reader("residency.json").flatMap { ResidencyPolicyFile.read($0, catalog: catalog) }
        let transfers = reader("transfers.json").flatMap { TransferPolicyFile.read($0, catalog: catalog) }
        let access = reader("access.json").flatMap { AccessPolicyFile.read($0, catalog: catalog) }
        let retention = reader("retention.json").flatMap { RetentionPolicyFile.read($0) }
        let dataClasses = reader("data-classes.json").flatMap { DataClassPolicyFile.read($0, catalog: catalog) }
        guard collector.problems.isEmpty, let residency, let transfers, let access, let retention, let dataClasses
        else { return nil }

        let whole = JSONValue.object([
            ("regions", .string(catalog.version.hex)),
            ("policies", .object(documents.map { ($0.key, $0.value) })),
        ])
        let bytes = (try? whole.canonicalBytes(allowsFractions: true)) ?? []
        return PolicySet(
            catalog: catalog, residency: residency, transfers: transfers, access: access, retention: retention,
            dataClasses: dataClasses, version: SHA256.hash(bytes))
    }
}
