import Foundation
import ResidencyController
import ResidencyCore

enum PlaceCommand {
    static let spec = CommandSpec(
        name: "place", abstract: "Decide where a new signup would be hosted, and why. Nothing is stored.",
        discussion: """
            The decision follows the policy in order: the customer's country (declared, else geolocated), the
            residency rule for it, a requested region if any, overrides, then the nearest available region and
            site. Region occupancy is read from the data directory when it exists. Exits 0 when placed, 1
            when refused.
            """,
        options: SignupOptions.placement + [
            SharedOptions.format, GeoCommand.geoIP, SharedOptions.regions, SharedOptions.policies,
            .option("data", "dir", "The data directory (default: $RESIDENCY_DATA or ./residency-data)."),
        ]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let policies = try SharedOptions.policySet(arguments, context)
        let request: PlacementRequest
        do throws(SignupInput.Problems) {
            request = try SignupOptions.input(arguments).placementRequest(in: policies.catalog)
        } catch {
            throw SignupOptions.usageError(error)
        }
        let regionsDirectory = try context.locator.regions(explicit: arguments.value("regions"))
        let geoPath = context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regionsDirectory).path
        let controller = try Controller.forPlacement(
            policies: policies, locator: try GeoLocator(path: geoPath),
            occupancyFrom: context.locator.dataDirectory(explicit: arguments.value("data")))
        let decision = controller.directory.place(request)
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
