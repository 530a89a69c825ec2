import Foundation
import ResidencyController
import ResidencyCore

/// Regional services on the controller's API: enrolment (an operator opens it, the service joins with the code),
/// removal, and a tenant's route — where the application reaches its data.
enum RegionalRoutes {
    static func all(controller: Controller) -> [Route] {
        @Sendable func regional() throws -> RegionalServices {
            guard let regional = controller.regional else {
                throw APIError(status: 409, code: "no_regional_services", message: "this controller runs without a data directory")
            }
            return regional
        }
        return [
            Route("POST", "/v1/regions/{id}/enrolment", roles: [.ops]) { context in
                let body = try RequestBody(context.request, fields: ["endpoint", "site"])
                let endpoint = body.object.required("endpoint")?.text()
                let site = body.object.optional("site")?.text()
                try body.check()
                let opened = try regional().enroll(
                    region: context.parameters["id"]!, endpoint: endpoint ?? "", site: site,
                    actor: context.caller?.tokenName ?? "api")
                return .json(
                    .object([
                        ("region", .string(context.parameters["id"]!)), ("join_code", .string(opened.code.text)),
                        ("expires_at", .string(Timestamp.rfc3339(milliseconds: opened.expiresAt))),
                    ]), status: 201)
            },
            // Public: the join code's proof authenticates the call (the service has no token, only its key).
            Route("POST", "/v1/regions/{id}/join", roles: nil) { context in
                let body = try RequestBody(context.request, fields: ["pin", "proof", "witness_key"])
                let pin = body.object.required("pin")?.text()
                let proofText = body.object.required("proof")?.text()
                let witnessKey = body.object.optional("witness_key")?.text()
                try body.check()
                guard let proof = proofText.flatMap({ Data(base64Encoded: $0) }), proof.count == 32 else {
                    throw APIError.badRequest("proof: accepted: base64 of a 32-byte HMAC-SHA256", code: "invalid_field")
                }
                let joined = try regional().join(
                    region: context.parameters["id"]!, pin: pin ?? "", proof: Array(proof), witnessKey: witnessKey)
                return .json(
                    .object([
                        ("region", .string(context.parameters["id"]!)), ("site", .string(joined.site)),
                        ("controller_key", .string(Data(joined.controllerKey).base64EncodedString())),
                        ("ledger_key", .string(joined.ledgerKey)),
                    ]))
            },
            Route("DELETE", "/v1/regions/{id}/service", roles: [.ops]) { context in
                try regional().remove(region: context.parameters["id"]!, actor: context.caller?.tokenName ?? "api")
                return HTTPResponse(status: 204, headers: [], body: [])
            },
            Route("GET", "/v1/tenants/{id}/route", roles: [.application, .signup, .ops, .support], tenantScoped: true) {
                context in
                let id = context.parameters["id"]!
                try TenantScope.check(id, context: context, controller: controller, route: "/v1/tenants/{id}/route")
                return .json(.object([("route", try controller.directory.route(tenant: id))]))
            },
        ]
    }
}
