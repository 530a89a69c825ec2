import Foundation
import ResidencyController
import ResidencyCore

/// The HTTP API over a controller: routing, authentication, roles, error mapping, metrics and the access
/// log. `respond(to:)` is the whole request path without sockets, so tests drive it directly.
package final class APIApplication: Sendable {
    package let controller: Controller
    package let metrics: Metrics
    let router: Router
    let openAPIDocument: [UInt8]
    /// Receives one JSON line per request (UTF-8, without its newline). The bytes are lent for the call only:
    /// copy them to keep them.
    let accessLog: @Sendable (UnsafeRawBufferPointer) -> Void
    let requestIDs = RequestIDs()

    /// Console sign-ins (server-side sessions).
    package let consoleSessions: ConsoleSessions

    package init(
        controller: Controller, metrics: Metrics = Metrics(), consoleSessions: ConsoleSessions = ConsoleSessions(),
        secureCookies: Bool = false, accessLog: @escaping @Sendable (UnsafeRawBufferPointer) -> Void
    ) {
        self.consoleSessions = consoleSessions
        self.controller = controller
        self.metrics = metrics
        self.accessLog = accessLog
        self.openAPIDocument = Self.loadOpenAPI()
        self.router = Router(
            routes: APIRoutes.all(controller: controller, metrics: metrics, openAPI: openAPIDocument)
                + LedgerRoutes.all(ledger: controller.ledger, publisher: controller.publisher)
                + AccessRoutes.all(controller: controller)
                + ResidencyRoutes.all(controller: controller) + MigrationRoutes.all(controller: controller)
                + DataRoutes.all(controller: controller) + LifecycleRoutes.all(controller: controller)
                + ReportRoutes.all(controller: controller) + TransparencyRoutes.all(controller: controller)
                + RegionalRoutes.all(controller: controller)
                + ConsoleRoutes.all(controller: controller, sessions: consoleSessions, secure: secureCookies))
    }

    static func loadOpenAPI() -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else {
            return Array(#"{"openapi":"3.1.0","info":{"title":"Residency","version":"unavailable"},"paths":{}}"#.utf8)
        }
        return Array(data)
    }

    /// Answers one request and records it (metrics, access log).
    package func respond(to request: HTTPRequest, requestID: String? = nil) -> HTTPResponse {
        respond(
            to: request, match: router.match(request),
            authentication: nil, requestID: requestID)
    }

    /// The answer when it can be given on an event loop without blocking; nil sends the request to the handler
    /// pool (`respond(to:)`). Inline: unmatched paths and methods, and `inline` routes called without a token, with
    /// an unknown one (a 401 writes nothing), or by an unscoped token of a role the route accepts. A revoked
    /// token, a refused role and a tenant-scoped token may each lead to a refusal recorded in the ledger — a
    /// durable write — so those go to the pool.
    package func respondInline(to request: HTTPRequest) -> HTTPResponse? {
        let match = router.match(request)
        guard case .found(let route, _) = match else {
            return respond(to: request, match: match, authentication: nil, requestID: nil)
        }
        guard route.inline else { return nil }
        var authentication: Authentication?
        if route.roles != nil {
            authentication = self.authentication(of: request)
            switch authentication {
            case .caller(let caller):
                guard caller.tenant == nil, route.accepts(caller.role) else { return nil }
            case .revoked: return nil
            case .unknown, .unavailable, nil: break
            }
        }
        return respond(to: request, match: match, authentication: authentication, requestID: nil)
    }

    private func respond(
        to request: HTTPRequest, match: Router.Match, authentication: Authentication?, requestID: String?
    ) -> HTTPResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        let id = requestID ?? self.requestID(from: request)
        let method = MethodLabel(request.method)
        var routeLabel = RouteLabel.unmatched
        var caller: Caller?
        var response: HTTPResponse
        do {
            if method == .other {
                // RFC 9110 §15.6.2. Methods are case-sensitive, so "get" lands here too.
                throw APIError(
                    status: 501, code: "not_implemented",
                    message: "method \"\(request.method.prefix(32))\" is not implemented; methods are case-sensitive")
            }
            switch match {
            case .notFound:
                throw APIError(status: 404, code: "not_found", message: "no route for \(request.path)")
            case .methodNotAllowed(let allow, let route):
                routeLabel = RouteLabel(route)
                var error = APIError(
                    status: 405, code: "method_not_allowed",
                    message:
                        "\(request.method) is not allowed on \(request.path); allowed: \(allow.joined(separator: ", "))"
                )
                error.headers = [("Allow", allow.joined(separator: ", "))]
                throw error
            case .found(let route, let parameters):
                routeLabel = RouteLabel(route)
                if let roles = route.roles {
                    let authenticated = try authenticate(
                        request, given: authentication, route: route, parameters: parameters, requestID: id)
                    caller = authenticated
                    guard route.accepts(authenticated.role) else {
                        let accepted = roles.map(\.rawValue).sorted().joined(separator: ", ")
                        throw forbidden(
                            authenticated, .role, request, route: route, parameters: parameters, requestID: id,
                            message:
                                "role \(authenticated.role.rawValue) may not \(request.method) \(route.template); roles accepted: \(accepted), admin"
                        )
                    }
                }
                if let caller, let scoped = caller.tenant, !route.tenantScoped {
                    throw forbidden(
                        caller, .tenantScope, request, route: route, parameters: parameters, requestID: id,
                        message:
                            "token \(caller.tokenName) is scoped to tenant \(scoped) and reaches only routes about that tenant; \(request.method) \(route.template) is not one"
                    )
                }
                response = try route.handler(
                    RequestContext(request: request, parameters: parameters, caller: caller, requestID: id))
            }
        } catch let error as APIError {
            response = error.response
        } catch let error as ControllerError {
            response = APIError(error).response
        } catch {
            if let classified = ControllerError.classify(error) {
                response = APIError(classified).response
            } else {
                response = APIError(status: 500, code: "internal", message: "internal error (request \(id))").response
            }
        }
        response.headers.append(("X-Request-Id", id))
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - started
        metrics.recordRequest(
            route: routeLabel, method: method, status: StatusLabel(response.status),
            seconds: Double(nanoseconds) / 1e9)
        // Written into a buffer and lent to the log as it lies (an array of it was an allocation and a copy).
        var line = ByteWriter(capacity: 256)
        AccessLogLine.write(
            time: controller.clock.now(), requestID: id, method: request.method, path: request.path,
            route: routeLabel.template, status: response.status, microseconds: Int(nanoseconds / 1000),
            token: caller?.tokenName, into: &line)
        line.withBytes { accessLog($0) }
        return response
    }

    /// The answer to a request the server could not parse or admit (bad framing, limits, timeouts, a full
    /// server), recorded like any other.
    package func rejection(status: Int, message: String) -> HTTPResponse {
        let code: String
        switch status {
        case 408: code = "request_timeout"
        case 413: code = "body_too_large"
        case 431: code = "headers_too_large"
        case 501: code = "not_implemented"
        case 503: code = "overloaded"
        case 505: code = "http_version_not_supported"
        default: code = "bad_request"
        }
        var response = APIError(status: status, code: code, message: message).response
        let id = requestIDs.next()
        response.headers.append(("X-Request-Id", id))
        metrics.recordRequest(route: .rejected, method: .unparsed, status: StatusLabel(status), seconds: 0)
        AccessLogLine.make(
            time: controller.clock.now(), requestID: id, method: nil, path: nil, route: "rejected", status: status,
            microseconds: 0, token: nil, error: message
        ).withUnsafeBytes { accessLog($0) }
        return response
    }

    /// Who the Authorization header names: nil without one; `.unknown` for anything but a live or revoked token.
    ///
    /// Read off the header's bytes: the secret is hashed where it lies in the request head, no String made.
    func authentication(of request: HTTPRequest) -> Authentication? {
        request.fields.withValue(lowercased: "authorization") { value -> Authentication in
            // The scheme compared byte by byte (a zip over "bearer".utf8 was some 500 instructions a request).
            guard let space = value.firstIndex(of: UInt8(ascii: " ")), space - value.startIndex == 6,
                Self.isBearer(value[value.startIndex..<space])
            else {
                return .unknown
            }
            return value[(space + 1)...].withUnsafeBytes {
                controller.tokens.authentication(bearer: $0, memo: request.bearerMemo)
            }
        }
    }

    /// Whether six bytes spell `bearer`, ignoring ASCII case (RFC 9110 §11.1: the scheme is case-insensitive).
    private static func isBearer(_ scheme: ArraySlice<UInt8>) -> Bool {
        guard scheme.count == 6 else { return false }
        let start = scheme.startIndex
        return HTTPHeaderFields.folded(scheme[start]) == UInt8(ascii: "b")
            && HTTPHeaderFields.folded(scheme[start + 1]) == UInt8(ascii: "e")
            && HTTPHeaderFields.folded(scheme[start + 2]) == UInt8(ascii: "a")
            && HTTPHeaderFields.folded(scheme[start + 3]) == UInt8(ascii: "r")
            && HTTPHeaderFields.folded(scheme[start + 4]) == UInt8(ascii: "e")
            && HTTPHeaderFields.folded(scheme[start + 5]) == UInt8(ascii: "r")
    }

    /// The caller, or the 401 to answer. `given` is the header's authentication when already looked up.
    func authenticate(
        _ request: HTTPRequest, given: Authentication?, route: Route, parameters: [String: String], requestID: String
    ) throws(APIError) -> Caller {
        guard let authentication = given ?? self.authentication(of: request) else {
            var error = APIError(status: 401, code: "unauthenticated", message: "send Authorization: Bearer <token>")
            error.headers = [("WWW-Authenticate", "Bearer realm=\"residency\"")]
            throw error
        }
        if case .revoked(let holder) = authentication {
            controller.tokens.recordRefusedCall(
                RefusedCall(
                    caller: holder, reason: .revokedToken, method: request.method, route: route.template,
                    tenant: Self.targetTenant(route: route, parameters: parameters), requestID: requestID))
        }
        if case .unavailable(let reason) = authentication {
            var error = APIError(
                status: 503, code: "storage_unavailable",
                message: "the token could not be checked: the database is not reachable (\(reason)); retry shortly")
            error.headers = [("Retry-After", "1")]
            throw error
        }
        guard case .caller(let caller) = authentication else {
            var error = APIError(
                status: 401, code: "invalid_token", message: "the bearer token is unknown, malformed or revoked")
            error.headers = [("WWW-Authenticate", "Bearer realm=\"residency\", error=\"invalid_token\"")]
            throw error
        }
        return caller
    }

    /// A known caller's call that the route refuses: recorded in the ledger as `api.refused`, answered 403.
    private func forbidden(
        _ caller: Caller, _ reason: RefusedCall.Reason, _ request: HTTPRequest, route: Route,
        parameters: [String: String], requestID: String, message: String
    ) -> APIError {
        controller.tokens.recordRefusedCall(
            RefusedCall(
                caller: caller, reason: reason, method: request.method, route: route.template,
                tenant: Self.targetTenant(route: route, parameters: parameters), requestID: requestID))
        return APIError(status: 403, code: "forbidden", message: message)
    }

    /// The tenant a route's path names (`/v1/tenants/{id}/…`), for the record of a refused call.
    static func targetTenant(route: Route, parameters: [String: String]) -> String? {
        route.template.hasPrefix("/v1/tenants/{id}") ? parameters["id"] : nil
    }

    /// The caller's X-Request-Id when it is a short token, else a fresh one.
    func requestID(from request: HTTPRequest) -> String {
        if let given = request.fields.value(lowercased: "x-request-id"), (1...64).contains(given.utf8.count),
            given.utf8.allSatisfy({ HTTPRequestParser.isTokenByte($0) })
        {
            return given
        }
        return requestIDs.next()
    }
}
