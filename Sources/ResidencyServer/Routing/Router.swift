import ResidencyController

/// What a handler sees: the request, its path parameters, the authenticated caller and the request id.
package struct RequestContext: Sendable {
    package let request: HTTPRequest
    package let parameters: [String: String]
    package let caller: Caller?
    package let requestID: String
}

/// One endpoint: method, path pattern (`{name}` segments capture), the roles it accepts (nil: public).
///
/// A class, though immutable: a route is handed from the router to the match to the application on every
/// request, and as a struct each hand-off retained its method, pattern, roles, handler and template.
package final class Route: Sendable {
    package enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    package let method: String
    package let pattern: [Segment]
    package let roles: Set<Role>?
    /// The handler never blocks — it reads memory or a cached SQLite page, writes nothing durable and finishes in
    /// microseconds — so the event loop may run it itself instead of handing it to a thread.
    package let inline: Bool
    /// The handler confines a tenant-scoped caller (a tenant administrator's or application's token) to its own
    /// tenant, or the route holds no tenant's data. Routes without it refuse scoped callers outright, so a new
    /// route is closed to them until someone decides otherwise.
    package let tenantScoped: Bool
    package let handler: @Sendable (RequestContext) throws -> HTTPResponse

    package init(
        _ method: String, _ path: String, roles: Set<Role>?, inline: Bool = false, tenantScoped: Bool = false,
        handler: @escaping @Sendable (RequestContext) throws -> HTTPResponse
    ) {
        self.method = method
        self.pattern = path.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        self.shape = Shape(pattern)
        self.roles = roles
        self.acceptedRoles = roles.map { $0.reduce(Role.admin.bit) { $0 | $1.bit } } ?? 0
        self.inline = inline
        self.tenantScoped = tenantScoped
        self.handler = handler
    }

    /// `roles` and admin as bits (`Role.bit`): each request checks its caller against them, and `Set<Role>` hashed
    /// the role's name (and `==` on a role compared raw-value Strings).
    private let acceptedRoles: UInt32

    /// Whether `role` may call the route: admin, or one of `roles`. False for a public route (no roles).
    func accepts(_ role: Role) -> Bool { acceptedRoles & role.bit != 0 }

    /// The route's template, e.g. `/v1/tenants/{id}`: the label metrics and logs group by.
    package var template: String { shape.template }

    /// What the router compares, worked out once instead of on every request.
    let shape: Shape

    struct Shape: Sendable {
        let template: String
        /// `template.hashValue`, for the metrics' route label (`RouteLabel`).
        let templateHash: Int
        let literalCount: Int

        init(_ pattern: [Segment]) {
            template =
                "/"
                + pattern.map { segment in
                    switch segment {
                    case .literal(let text): return text
                    case .parameter(let name): return "{\(name)}"
                    }
                }.joined(separator: "/")
            templateHash = template.hashValue
            literalCount = pattern.reduce(0) { count, segment in
                if case .literal = segment { return count + 1 }
                return count
            }
        }
    }

    func matches(_ segments: [String]) -> Bool {
        guard segments.count == pattern.count else { return false }
        for (segment, part) in zip(pattern, segments) {
            if case .literal(let text) = segment, text != part { return false }
        }
        return true
    }

    func parameters(_ segments: [String]) -> [String: String] {
        var parameters: [String: String] = [:]
        for (segment, part) in zip(pattern, segments) {
            if case .parameter(let name) = segment { parameters[name] = part }
        }
        return parameters
    }
}

/// Finds the route for a request, telling "no such path" (404) from "no such method here" (405).
package struct Router: Sendable {
    package let routes: [Route]
    /// Routes by number of path segments: a request is compared only with patterns of its length.
    private let byLength: [Int: [Route]]

    /// Routes whose every segment is literal, by template (`/v1/placements`), in routing order.
    private let literal: [String: [Route]]

    package init(routes: [Route]) {
        self.routes = routes
        byLength = Dictionary(grouping: routes, by: \.pattern.count)
        literal = Dictionary(grouping: routes.filter { $0.shape.literalCount == $0.pattern.count }, by: \.template)
    }

    /// The route for a parsed request. When the request's target is its path (nothing decoded, so no segment
    /// holds a slash) and a literal route has that path, the routes of that template are the most specific
    /// match and are found by one lookup: comparing the path with each route's segments in turn was some 1,700
    /// instructions a placement. Otherwise, and for every other path, `match(method:segments:)`.
    func match(_ request: HTTPRequest) -> Match {
        guard request.targetIsPath, let routes = literal[request.target] else {
            return match(method: request.method, segments: request.pathSegments)
        }
        let method = request.method
        let isHead = method == "HEAD"
        var get: Route?
        for route in routes {
            if route.method == method { return .found(route, [:]) }
            if isHead && get == nil && route.method == "GET" { get = route }
        }
        if let get { return .found(get, [:]) }
        return .methodNotAllowed(allow: routes.map(\.method), route: routes[0])
    }

    package enum Match: Sendable {
        case found(Route, [String: String])
        /// The path is a route's, the method is not: `route` is one of the path's routes (for its template).
        case methodNotAllowed(allow: [String], route: Route)
        case notFound
    }

    /// The routes matching the path; when several patterns match (`/x/break-glass` and `/x/{id}`), only the
    /// most specific — the most literal segments — count, so a literal route is never shadowed by a parameter
    /// and `Allow` lists only its methods.
    ///
    /// HEAD is served wherever GET is, by the GET route (RFC 9110 §9.3.2: it must answer as GET would; the
    /// server leaves the body out), unless a route claims HEAD itself.
    package func match(method: String, segments: [String]) -> Match {
        guard let candidates = byLength[segments.count] else { return .notFound }
        let isHead = method == "HEAD"
        var best = -1
        var found: Route?
        var get: Route?
        for route in candidates where route.shape.literalCount >= best && route.matches(segments) {
            if route.shape.literalCount > best {
                best = route.shape.literalCount
                found = nil
                get = nil
            }
            if found == nil && route.method == method { found = route }
            if isHead && get == nil && route.method == "GET" { get = route }
        }
        guard best >= 0 else { return .notFound }
        if let found = found ?? get { return .found(found, found.parameters(segments)) }
        let specific = candidates.filter { $0.shape.literalCount == best && $0.matches(segments) }
        return .methodNotAllowed(allow: specific.map(\.method), route: specific[0])
    }
}

extension Role {
    /// One bit per role, by a switch on the case (a new role fails to compile here until it has one).
    fileprivate var bit: UInt32 {
        switch self {
        case .signup: return 1 << 0
        case .ops: return 1 << 1
        case .support: return 1 << 2
        case .compliance: return 1 << 3
        case .admin: return 1 << 4
        case .billing: return 1 << 5
        case .application: return 1 << 6
        }
    }
}
