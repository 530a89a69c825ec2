import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore

enum PlaceCommand {
    static let spec = CommandSpec(
        name: "place", abstract: "Decide where a new signup would be hosted, and why. Nothing is stored.",
        discussion: """
            The decision follows the policy in order: the customer's country (declared, else geolocated), the
            residency rule for it, a requested region if any, overrides, then the nearest available region and
            site. Region occupancy is read from the data directory when it exists. Exits 0 when placed, 1
            when refused.
            """,
        options: [
            .option("ip", "ip", "The signup's IP address."),
            .option("country", "cc", "The declared country (ISO 3166-1 alpha-2)."),
            .option("region", "id", "A requested region."),
            .option("plan", "plan", "trial, free or paid."),
            SharedOptions.format, GeoCommand.geoIP, SharedOptions.regions, SharedOptions.policies,
            .option("data", "dir", "The data directory (default: $RESIDENCY_DATA or ./residency-data)."),
        ]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        var request = PlacementRequest()
        if let ip = arguments.value("ip") {
            switch IPAddress.parse(ip) {
            case .success(let address): request.ip = address
            case .failure(let error): throw UsageError("--ip: \(error)")
            }
        }
        let policies = try SharedOptions.policySet(arguments, context)
        if let text = arguments.value("country") {
            guard let code = CountryCode(text), policies.catalog.countries.contains(code) else {
                throw UsageError("--country: \"\(text)\" is not an ISO 3166-1 alpha-2 country code (e.g. DE, GB, US)")
            }
            request.declaredCountry = code
        }
        if let region = arguments.value("region") {
            guard policies.catalog.region(id: region) != nil else {
                throw UsageError(
                    "--region: unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
                )
            }
            request.requestedRegion = region
        }
        if let plan = arguments.value("plan") {
            guard let value = Plan(rawValue: plan) else {
                throw UsageError("--plan: \"\(plan)\"; accepted: trial, free, paid")
            }
            request.plan = value
        }
        let regionsDirectory = try context.locator.regions(explicit: arguments.value("regions"))
        let geoPath = context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regionsDirectory).path
        let locator = try GeoLocator(path: geoPath)
        var occupancy: [String: Int] = [:]
        let data = DataDirectory(context.locator.dataDirectory(explicit: arguments.value("data")))
        if FileManager.default.fileExists(atPath: data.databaseURL.path) {
            occupancy = try TenantRepository(try data.openDatabase()).liveCounts()
        }
        let decision = SignupPlacer(policies: policies, locator: locator).place(request, occupancy: occupancy)
        switch format {
        case .json:
            context.print(decision.jsonValue.encoded(pretty: true))
        case .table:
            var lines: [String] = []
            switch decision.outcome {
            case .placed(let region, let site, let kilometres):
                lines.append("placed:   \(region), site \(site)" + (kilometres.map { ", \($0) km" } ?? ""))
            case .refused(let refusal):
                lines.append(
                    "refused:  \(refusal.code.rawValue)" + (refusal.rule.map { " (rule \($0))" } ?? "")
                        + ": \(refusal.message)")
            }
            lines.append(
                "country:  \(decision.country?.rawValue ?? "unknown") (declared \(decision.declaredCountry?.rawValue ?? "-"), geolocated \(decision.geolocatedCountry?.rawValue ?? "-"))"
            )
            lines.append("policy:   \(decision.policyVersion.hex)")
            lines.append("reasons:")
            for (index, reason) in decision.reasons.enumerated() {
                lines.append("  \(index + 1). \(reason.code): \(reason.message)")
            }
            context.print(lines.joined(separator: "\n"))
        }
        return decision.region == nil ? ExitCode.failure : ExitCode.success
    }
}
