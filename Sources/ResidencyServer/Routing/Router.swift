import ResidencyController

/// What a handler sees: the request, its path parameters, the authenticated caller and the request id.
public struct RequestContext: Sendable {
    public let request: HTTPRequest
    public let parameters: [String: String]
    public let caller: Caller?
    public let requestID: String
}

/// One endpoint: method, path pattern (`{name}` segments capture), the roles it accepts (nil: public).
public struct Route: Sendable {
    public enum Segment: Sendable, Hashable {
        case literal(String)
        case parameter(String)
    }

    public let method: String
    public let pattern: [Segment]
    public let roles: Set<Role>?
    public let handler: @Sendable (RequestContext) throws -> HTTPResponse

    public init(
        _ method: String, _ path: String, roles: Set<Role>?,
        handler: @escaping @Sendable (RequestContext) throws -> HTTPResponse
    ) {
        self.method = method
        self.pattern = path.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}")
                ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
        self.roles = roles
        self.handler = handler
    }

    /// The route's template, e.g. `/v1/tenants/{id}`: the label metrics and logs group by.
    public var template: String {
        "/"
            + pattern.map { segment in
                switch segment {
                case .literal(let text): return text
                case .parameter(let name): return "{\(name)}"
                }
            }.joined(separator: "/")
    }

    func match(_ segments: [String]) -> [String: String]? {
        guard segments.count == pattern.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(pattern, segments) {
            switch segment {
            case .literal(let text): if text != part { return nil }
            case .parameter(let name): parameters[name] = part
            }
        }
        return parameters
    }
}

/// Finds the route for a request, telling "no such path" (404) from "no such method here" (405).
public struct Router: Sendable {
    public let routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    public enum Match: Sendable {
        case found(Route, [String: String])
        case methodNotAllowed(allow: [String], template: String)
        case notFound
    }

    /// The routes matching the path; when several patterns match (`/x/break-glass` and `/x/{id}`), only the
    /// most specific — the most literal segments — count, so a literal route is never shadowed by a parameter
    /// and `Allow` lists only its methods.
    public func match(method: String, segments: [String]) -> Match {
        var candidates: [(route: Route, parameters: [String: String], literals: Int)] = []
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            let literals = route.pattern.filter { if case .literal = $0 { return true } else { return false } }.count
            candidates.append((route, parameters, literals))
        }
        guard let best = candidates.map(\.literals).max() else { return .notFound }
        let specific = candidates.filter { $0.literals == best }
        if let found = specific.first(where: { $0.route.method == method }) {
            return .found(found.route, found.parameters)
        }
        return .methodNotAllowed(allow: specific.map(\.route.method), template: specific[0].route.template)
    }
}
