import ResidencyController
import ResidencyCore

/// `POST /v1/residency/checks`: one check, or `{"checks": [...]}` for up to 1000 at once.
enum ResidencyRoutes {
    static let maximumBatch = 1000

    static func all(controller: Controller) -> [Route] {
        [
            Route("POST", "/v1/residency/checks", roles: Set(Role.allCases)) { context in
                let fields = ["tenant", "data_class", "location", "purpose"]
                let body = try RequestBody(context.request, fields: fields + ["checks"])
                func read(_ object: JSONObjectReader) -> DirectoryService.ResidencyCheck? {
                    let tenant = object.required("tenant")?.string()
                    let dataClass = object.required("data_class")?.oneOf(DataClassPolicy.DataClass.self)
                    let location = object.required("location")?.string()
                    let purpose = object.optional("purpose")?.string()
                    guard let tenant, let dataClass, let location else { return nil }
                    return DirectoryService.ResidencyCheck(
                        tenant: tenant, dataClass: dataClass, location: location, purpose: purpose)
                }
                var checks: [DirectoryService.ResidencyCheck] = []
                let batch = body.object.optional("checks")
                if let batch {
                    if fields.contains(where: { body.object.has($0) }) {
                        batch.problem("send either one check or \"checks\", not both")
                    }
                    let elements = batch.array() ?? []
                    if elements.isEmpty || elements.count > maximumBatch {
                        batch.note("a batch holds 1-\(maximumBatch) checks")
                    }
                    checks = elements.compactMap { $0.object(known: fields).flatMap(read) }
                } else if let single = read(body.object) {
                    checks = [single]
                }
                try body.check()
                let results = try controller.directory.checkResidency(checks, by: context.caller?.tokenName ?? "system")
                if batch != nil {
                    return .json(.object([("results", .array(results.map(\.jsonValue)))]))
                }
                return .json(.object([("result", results[0].jsonValue)]))
            }
        ]
    }
}
