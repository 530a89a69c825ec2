/// The labels of the request metrics. Each comes from a closed set and none can be made from a caller's text,
/// so no request — whatever its method, path or status — can add a series: every series costs memory for the
/// life of the process and bytes in every scrape (random method tokens once grew the server by 220 MB).

/// The request method: the methods HTTP defines that this API may serve, and `other` for every other token.
enum MethodLabel: String, Hashable, Comparable, Sendable {
    case get = "GET"
    case head = "HEAD"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
    case patch = "PATCH"
    case options = "OPTIONS"
    case other
    /// A request refused before its method was read.
    case unparsed = "-"

    /// Methods are case-sensitive (RFC 9110 §9.1): "get" is `other`.
    init(_ method: String) {
        switch method {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "PATCH": self = .patch
        case "OPTIONS": self = .options
        default: self = .other
        }
    }

    static func < (left: MethodLabel, right: MethodLabel) -> Bool { left.rawValue < right.rawValue }

    // By case, not by name: a raw-value enum's default `==` and hash go through its raw String, and every request
    // compares and hashes its method label (the metrics' key).
    static func == (left: MethodLabel, right: MethodLabel) -> Bool { left.ordinal == right.ordinal }

    func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }

    private var ordinal: Int {
        switch self {
        case .get: return 0
        case .head: return 1
        case .post: return 2
        case .put: return 3
        case .delete: return 4
        case .patch: return 5
        case .options: return 6
        case .other: return 7
        case .unparsed: return 8
        }
    }
}

/// The route: the template of one of the router's routes, or `unmatched` (no route has the path) or `rejected`
/// (the request could not be parsed or admitted). Only a `Route` makes one, and routes are fixed when the
/// application starts.
struct RouteLabel: Hashable, Comparable, Sendable {
    let template: String
    /// The template's hash, worked out once per route: each request files its counts under its route, and
    /// hashing the template's text for every one was most of the cost of recording them.
    private let templateHash: Int

    init(_ route: Route) { self.init(fixed: route.template, hash: route.shape.templateHash) }

    private init(fixed: String, hash: Int? = nil) {
        template = fixed
        templateHash = hash ?? fixed.hashValue
    }

    static func == (left: RouteLabel, right: RouteLabel) -> Bool {
        left.templateHash == right.templateHash && left.template == right.template
    }

    func hash(into hasher: inout Hasher) { hasher.combine(templateHash) }

    static let unmatched = RouteLabel(fixed: "unmatched")
    static let rejected = RouteLabel(fixed: "rejected")

    static func < (left: RouteLabel, right: RouteLabel) -> Bool { left.template < right.template }
}

/// The status: its number when it is one this server sends (`HTTPStatus.emitted`), else its class (`4xx`), so
/// that a handler answering an unexpected status still cannot open the set.
struct StatusLabel: Hashable, Comparable, Sendable {
    /// The status, or its class times 100 plus `classMarker` (never a real status: those are 100-599).
    private let value: Int
    private static let classMarker = 1000

    init(_ status: Int) {
        if HTTPStatus.isEmitted(status) {
            value = status
        } else {
            value = Self.classMarker + min(max(status / 100, 0), 9)
        }
    }

    var text: String { value < Self.classMarker ? String(value) : "\(value - Self.classMarker)xx" }

    static func < (left: StatusLabel, right: StatusLabel) -> Bool { left.value < right.value }
}
