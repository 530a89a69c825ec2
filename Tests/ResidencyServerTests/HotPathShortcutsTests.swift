import Foundation
import ResidencyController
import Testing

@testable import ResidencyCore
@testable import ResidencyServer

/// The placement path's shortcuts (issue 23, fifth pass) against the general forms they stand in for: each must
/// answer exactly what the plain code answers, for every input, hostile ones included.
@Suite struct HotPathShortcutsTests {
    // MARK: The response head, measured then copied

    /// The head as the server wrote it before the shortcut: piece by piece into a growing array.
    static func referenceHead(
        _ response: HTTPResponse, keepAlive: Bool, framing: HTTPResponse.Framing, body: Bool
    ) -> [UInt8] {
        var output: [UInt8] = []
        if let line = HTTPResponse.statusLines[response.status] {
            output += line
        } else {
            output += Array("HTTP/1.1 \(response.status) \(HTTPStatus.reason(response.status))\r\n".utf8)
        }
        for header in response.headers { output += Array("\(header.name): \(header.value)\r\n".utf8) }
        switch framing {
        case .length(let count): output += Array("Content-Length: \(count)\r\n".utf8)
        case .chunked: output += Array("Transfer-Encoding: chunked\r\n".utf8)
        case .untilClose: break
        }
        if !keepAlive { output += Array("Connection: close\r\n".utf8) }
        output += [0x0D, 0x0A]
        if body { output += response.body }
        return output
    }

    /// Every status (sent ones, unknown ones, out of range), header sets (none, many, empty, non-ASCII, long),
    /// body lengths at every digit-count edge, each framing, kept alive or not, body or none: byte-equal.
    @Test func theHeadIsTheOneThePlainWriterWrites() {
        let statuses = HTTPStatus.emitted + [0, 99, 102, 299, 418, 599, 600, 999, -1]
        let headerSets: [[(name: String, value: String)]] = [
            [], [("Content-Type", "application/json")],
            [("Content-Type", "application/json"), ("X-Request-Id", "0123456789abcdef")],
            [("X-Empty", ""), ("", "nameless"), ("X-Ünïcode", "välue — ✓ 𝄞")],
            (0..<40).map { ("X-H\($0)", String(repeating: "v", count: $0 * 7)) },
            [("Set-Cookie", String(repeating: "a=b; ", count: 400))],
        ]
        let bodyLengths = [0, 1, 9, 10, 99, 100, 999, 1000, 65_535, 100_000]
        for status in statuses {
            for headers in headerSets {
                for length in bodyLengths {
                    let body = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                    let response = HTTPResponse(status: status, headers: headers, body: body)
                    for keepAlive in [true, false] {
                        for omit in [false, true] {
                            #expect(
                                response.serialized(keepAlive: keepAlive, omitBody: omit)
                                    == Self.referenceHead(
                                        response, keepAlive: keepAlive, framing: .length(length), body: !omit),
                                "status \(status), \(headers.count) headers, body \(length), keepAlive \(keepAlive)")
                        }
                        for framing in [HTTPResponse.Framing.chunked, .untilClose] {
                            #expect(
                                response.head(keepAlive: keepAlive, framing: framing)
                                    == Self.referenceHead(response, keepAlive: keepAlive, framing: framing, body: false))
                        }
                    }
                }
            }
        }
    }

    // MARK: Header lookup by a fixed lower-case name

    /// `valueRange(lowercased:)` finds what the String lookup finds — the first field of that name in any case,
    /// nothing for names that only share a prefix or a length — over random heads.
    @Test func fixedNameLookupAgreesWithTheStringLookup() throws {
        var generator = SeededGenerator(seed: 23)
        let names = ["authorization", "content-type", "connection", "x-request-id"]
        let decoys = ["authorizatioN", "content-typ", "content-typex", "connectiom", "x-request-ie", "hos", "a", "x"]
        for _ in 0..<2_000 {
            var head = "POST /v1/placements HTTP/1.1\r\nHost: h"
            for _ in 0..<Int.random(in: 0...8, using: &generator) {
                var name = (names + decoys).randomElement(using: &generator)!
                name = String(name.map { Bool.random(using: &generator) ? Character($0.uppercased()) : $0 })
                let value = String(repeating: "v", count: Int.random(in: 0...5, using: &generator))
                head += "\r\n\(name):\(Bool.random(using: &generator) ? " " : "")\(value)"
            }
            let request = try HotPathReadingTests.parse(head)
            #expect(request.fields.valueRange(lowercased: "authorization") == request.fields.valueRange("authorization"))
            #expect(request.fields.valueRange(lowercased: "content-type") == request.fields.valueRange("Content-Type"))
            #expect(request.fields.valueRange(lowercased: "connection") == request.fields.valueRange("CONNECTION"))
            #expect(request.fields.value(lowercased: "x-request-id") == request.header("x-request-id"))
            #expect(request.fields.valueRange(lowercased: "host") == request.fields.valueRange("host"))
            #expect(request.fields.valueRange(lowercased: "missing") == nil)
        }
        // Fields made in process (no head bytes of the parser's).
        let made = HTTPRequest(
            method: "GET", target: "/", pathSegments: [], query: [], minorVersion: 1,
            headers: [("Content-Type", "text/plain"), ("content-type", "second")], body: [])
        #expect(made.fields.value(lowercased: "content-type") == "text/plain")
        #expect(made.hasMediaType("text/plain"))
        #expect(!made.hasMediaType("text/plai"))
    }

    /// The Bearer scheme is read ignoring case, exactly six letters, and nothing else passes for it.
    @Test func theBearerSchemeIsReadIgnoringCaseAndNothingElse() throws {
        let api = try APIHarness()
        let token = api.tokens[.signup]!
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let answer = api.send("POST", "/v1/placements", role: nil, body: "{}", headers: [("Authorization", "\(scheme) \(token)")])
            #expect(answer.status == 200, "\(scheme)")
        }
        for scheme in ["Bearex", "Beare", "Bearers", "Basic", "Bearér", "Bea rer", "", "bearer\t"] {
            let answer = api.send("POST", "/v1/placements", role: nil, body: "{}", headers: [("Authorization", "\(scheme) \(token)")])
            #expect(answer.status == 401, "\(scheme)")
        }
    }

    // MARK: The path the access log names

    /// Wherever the parser marks the target as its own path, the path joined from the decoded segments is the
    /// same text; elsewhere the path is joined as before.
    @Test func theTargetStandsInForThePathOnlyWhereTheyAgree() throws {
        let targets = [
            "/", "//", "///", "/a", "/a/", "/a//", "//a", "/a//b", "/v1/placements", "/v1/placements/", "/a?", "/a?x=1",
            "/a%20b", "/a%2Fb", "/%41", "/a/b/c/d/e/f", "/a.b/..", "/./", "/a;b", "/a+b", "/a?x=%20", "/~!$&'()*+,;=:@",
        ]
        for target in targets {
            let request = try HotPathReadingTests.parse("GET \(target) HTTP/1.1\r\nHost: h")
            let joined = "/" + request.pathSegments.joined(separator: "/")
            #expect(request.path == joined, "\(target)")
            let plain = !target.contains("?") && !target.contains("%") && (target == "/" || !target.hasSuffix("/"))
            #expect(request.targetIsPath == plain, "\(target)")
        }
        // Made in process, the target is not trusted to be the path.
        let made = HTTPRequest(
            method: "GET", target: "/elsewhere", pathSegments: ["a", "b"], query: [], minorVersion: 1, headers: [],
            body: [])
        #expect(made.path == "/a/b")
    }

    // MARK: Roles as bits, method labels by case

    /// `Route.accepts` is "admin, or one of the route's roles" for every set of roles and every caller role.
    @Test func routeRolesAsBitsAcceptWhatTheSetAccepts() {
        let all = Role.allCases
        for mask in 0..<(1 << all.count) {
            let roles = Set(all.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element))
            let route = Route("GET", "/x", roles: roles) { _ in HTTPResponse(status: 204) }
            for role in all {
                #expect(route.accepts(role) == (role == .admin || roles.contains(role)), "\(roles) \(role)")
            }
        }
    }

    /// Method labels compare and hash by case: equal exactly when their names are, each its own metrics key.
    @Test func methodLabelsCompareAndHashByCase() {
        let labels: [MethodLabel] = [.get, .head, .post, .put, .delete, .patch, .options, .other, .unparsed]
        for left in labels {
            for right in labels {
                #expect((left == right) == (left.rawValue == right.rawValue))
                if left == right { #expect(left.hashValue == right.hashValue) }
            }
        }
        #expect(Set(labels).count == labels.count)
        #expect(MethodLabel("POST") == .post && MethodLabel("post") == .other)
    }
}

/// The parser's word-at-a-time check of field values, and the router's lookup of literal paths, against the plain
/// forms.
@Suite struct HotPathShortcutsParsingTests {
    static func naiveHasControlByte(_ bytes: [UInt8]) -> Bool {
        bytes.contains { !($0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F)) }
    }

    /// Every byte value at every position of values 0–24 bytes long, among fillers of every kind (visible, high
    /// bit set, tab, space): the word test answers as the byte loop does, from any start offset.
    @Test func valueControlCheckAgreesWithTheByteLoop() {
        let fillers: [UInt8] = [0x41, 0x20, 0x09, 0x80, 0xFF, 0x7E, 0x21]
        for filler in fillers {
            for length in 0...24 {
                for position in 0..<max(length, 1) {
                    for value in 0...255 {
                        var bytes = [UInt8](repeating: filler, count: length + 3)
                        if length > 0 { bytes[1 + position] = UInt8(value) }
                        let expected = Self.naiveHasControlByte(Array(bytes[1..<(1 + length)]))
                        let answered = bytes.withUnsafeBufferPointer {
                            HTTPRequestParser.hasControlByte($0, from: 1, to: 1 + length)
                        }
                        if answered != expected {
                            Issue.record("filler \(filler), length \(length), \(value) at \(position): \(answered)")
                            return
                        }
                    }
                }
            }
        }
        // Random values with a few bad bytes sprinkled in, checked over whole buffers.
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ -> UInt8 in
                Int.random(in: 0..<40, using: &generator) == 0
                    ? UInt8.random(in: 0...0x1F, using: &generator) : UInt8.random(in: 0x20...0xFF, using: &generator)
            }
            let answered = bytes.withUnsafeBufferPointer {
                HTTPRequestParser.hasControlByte($0, from: 0, to: bytes.count)
            }
            #expect(answered == Self.naiveHasControlByte(bytes))
        }
    }

    /// A match as comparable text: the route (by identity), its parameters, or the methods allowed.
    static func describe(_ match: Router.Match) -> String {
        switch match {
        case .found(let route, let parameters):
            return "found \(ObjectIdentifier(route).hashValue) \(route.method) \(route.template) \(parameters.sorted { $0.key < $1.key })"
        case .methodNotAllowed(let allow, let route):
            return "405 \(allow) \(ObjectIdentifier(route).hashValue)"
        case .notFound:
            return "404"
        }
    }

    /// Over the API's own routes, for every method and for each template's path (parameters filled in, slashes
    /// added, escapes and queries), the lookup of a literal path answers what the segment walk answers.
    @Test func literalPathLookupAgreesWithTheSegmentWalk() throws {
        let api = try APIHarness()
        let router = api.application.router
        var targets: Set<String> = ["/", "//", "/v1", "/v1/", "/v1//placements", "/nothing", "/v1/placements?x=1"]
        for route in router.routes {
            let filled = route.template.replacingOccurrences(
                of: #"\{[a-z_]+\}"#, with: "tn_0193a2b4c5d6e7f8091a2b", options: .regularExpression)
            targets.formUnion([
                route.template, filled, filled + "/", filled + "?a=b", filled + "x", "/" + filled,
                filled.replacingOccurrences(of: "v1", with: "v%31"),
            ])
        }
        let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "BREW"]
        var literalHits = 0
        for target in targets.sorted() {
            for method in methods {
                guard let request = try? HotPathReadingTests.parse("\(method) \(target) HTTP/1.1\r\nHost: h") else {
                    continue
                }
                let fast = router.match(request)
                let plain = router.match(method: method, segments: request.pathSegments)
                #expect(Self.describe(fast) == Self.describe(plain), "\(method) \(target)")
                if request.targetIsPath, case .found(let route, _) = fast, route.shape.literalCount == route.pattern.count {
                    literalHits += 1
                }
            }
        }
        #expect(literalHits > 50)
    }
}

/// The placement body's address read straight from its bytes when it is a dotted quad.
@Suite struct QuickAddressReadingTests {
    /// For dotted quads at every edge and for text that is none, the quick reading takes exactly the addresses
    /// `SignupInput.ip` accepts, as the same address, and steps aside for the rest.
    @Test func dottedQuadsAreReadAsSignupInputReadsThem() throws {
        let harness = try APIHarness()
        var texts = [
            "0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3",
            "1.2.3.4.", ".1.2.3.4", "1.2.3.-4", "1.2.3.4 ", "1.2.3.1000", "1.2.3.", "", "a.b.c.d", "::1",
            "::ffff:81.2.69.160", "2a00:1450:4001::1", "81.2.69.160", "10.0.0.1", "1.2.3.4:80", "１.2.3.4",
        ]
        var generator = SeededGenerator(seed: 41)
        for _ in 0..<500 {
            texts.append((0..<4).map { _ in String(Int.random(in: 0...300, using: &generator)) }.joined(separator: "."))
        }
        var quickAnswers = 0
        for text in texts {
            let request = QuickPlacementReadingTests.request(#"{"ip":"\#(text)"}"#)
            let quick = APIRoutes.wellFormedPlacement(request, controller: harness.controller)
            switch SignupInput.ip(text) {
            case .success(let address):
                #expect(quick?.ip == address, "\(text)")
                quickAnswers += 1
            case .failure:
                #expect(quick == nil, "\(text)")
            }
        }
        #expect(quickAnswers > 200)  // about half the random quads are in range
    }
}
