import Testing

@testable import ResidencyServer

@Suite struct HTTPRequestParserTests {
    static func parseAll(_ chunks: [String], limits: HTTPLimits = HTTPLimits()) throws(HTTPParseError) -> [HTTPRequest]
    {
        var parser = HTTPRequestParser(limits: limits)
        var requests: [HTTPRequest] = []
        for chunk in chunks {
            parser.append(Array(chunk.utf8))
            while case .request(let request) = try parser.next() { requests.append(request) }
        }
        return requests
    }

    @Test func parsesASimpleRequest() throws {
        let requests = try Self.parseAll([
            "GET /v1/tenants?region=eu&limit=5 HTTP/1.1\r\nHost: x\r\nX-A:  spaced value \r\n\r\n"
        ])
        #expect(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "GET")
        #expect(request.pathSegments == ["v1", "tenants"])
        #expect(request.queryValue("region") == "eu")
        #expect(request.queryValue("limit") == "5")
        #expect(request.header("x-a") == "spaced value")
        #expect(request.keepsAlive)
    }

    @Test func everySplitPointGivesTheSameRequest() throws {
        let text =
            "POST /v1/placements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"country\":\"FR\"}\n"
        for split in 0...text.utf8.count {
            let bytes = Array(text.utf8)
            var parser = HTTPRequestParser()
            parser.append(bytes[..<split])
            var requests: [HTTPRequest] = []
            while case .request(let request) = try parser.next() { requests.append(request) }
            parser.append(bytes[split...])
            while case .request(let request) = try parser.next() { requests.append(request) }
            #expect(requests.count == 1, "split at \(split)")
            #expect(requests.first?.body == Array("{\"country\":\"FR\"}\n".utf8))
        }
    }

    @Test func pipelinedRequestsComeOutInOrder() throws {
        let requests = try Self.parseAll([
            "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ])
        #expect(requests.map(\.path) == ["/a", "/b", "/c"])
        #expect(requests[1].body == Array("hi".utf8))
        #expect(!requests[2].keepsAlive)
    }

    @Test func decodesChunkedBodies() throws {
        let requests = try Self.parseAll([
            "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            "6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n",
        ])
        #expect(requests.count == 1)
        #expect(requests[0].body == Array("hello world".utf8))
    }

    @Test func reportsExpectContinueUntilTheBodyArrives() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        guard case .needMore(true) = try parser.next() else {
            Issue.record("expected a 100-continue signal")
            return
        }
        parser.append(Array("abc".utf8))
        guard case .request(let request) = try parser.next() else {
            Issue.record("expected the request")
            return
        }
        #expect(request.body == Array("abc".utf8))
    }

    @Test(arguments: [
        ("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "one framing"),
        (
            "GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
            "conflicting Content-Length"
        ),
        ("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, "decimal number"),
        ("GET /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", 400, "decimal number"),
        ("GET /x HTTP/1.1\r\nHost : x\r\n\r\n", 400, "no whitespace is allowed before the colon"),
        ("GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "obsolete line folding"),
        ("GET /x HTTP/1.1\r\n\r\n", 400, "need a Host header"),
        ("GET http://evil/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "origin-form"),
        ("GET /x HTTP/2.0\r\nHost: x\r\n\r\n", 505, "not supported"),
        ("GET /x\r\nHost: x\r\n\r\n", 400, "malformed request line"),
        ("G(T /x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed method"),
        ("GET /x HTTP/1.1\nHost: x\r\n\r\n", 400, "bare LF"),
        ("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "percent-encoding"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "only chunked"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413, "exceeds"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "malformed chunk size"),
        // Found by the fuzzer: a signed chunk size.
        (
            "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n-6\r\nT: x\r\n\r\n", 400,
            "malformed chunk size"
        ),
        (
            "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n", 400,
            "malformed chunk size"
        ),
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400, "not followed by CRLF"),
        ("GET /x HTTP/1.1\r\nHost: x\r\nX: a\u{01}b\r\n\r\n", 400, "control character"),
    ])
    func refusesBadFraming(text: String, status: Int, message: String) {
        do {
            _ = try Self.parseAll([text])
            Issue.record("accepted: \(text.debugDescription)")
        } catch {
            #expect(error.status == status, "\(text.debugDescription)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func limitsTheHeadAndTheChunkedBody() {
        var limits = HTTPLimits()
        limits.bodyBytes = 10
        #expect(throws: HTTPParseError(status: 431, message: "request line and headers exceed 16384 bytes")) {
            _ = try Self.parseAll(["GET /x HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 17_000)])
        }
        #expect(throws: HTTPParseError.self) {
            _ = try Self.parseAll(
                [
                    "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
                ], limits: limits)
        }
        let many = (0..<101).map { "X-\($0): v\r\n" }.joined()
        #expect(throws: HTTPParseError.self) {
            _ = try Self.parseAll(["GET /x HTTP/1.1\r\nHost: x\r\n" + many + "\r\n"])
        }
    }

    @Test func http10ClosesUnlessKeepAlive() throws {
        #expect(try !Self.parseAll(["GET /x HTTP/1.0\r\n\r\n"])[0].keepsAlive)
        #expect(try Self.parseAll(["GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"])[0].keepsAlive)
    }

    @Test func randomBytesNeverCrash() {
        var state: UInt64 = 99
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let alphabet = Array(
            "GET POST /x?=&% HTTP/1.1\r\n:Host Content-Length Transfer-Encoding chunked 0123456789abcdef\u{0}".utf8)
        for _ in 0..<3_000 {
            var parser = HTTPRequestParser()
            parser.append((0..<Int(next() % 300)).map { _ in alphabet[Int(next()) % alphabet.count] })
            for _ in 0..<4 { _ = try? parser.next() }
        }
    }
}

@Suite struct RouterTests {
    let router = Router(routes: [
        Route("GET", "/v1/items/{id}", roles: nil) { _ in HTTPResponse(status: 200) },
        Route("POST", "/v1/items/special", roles: nil) { _ in HTTPResponse(status: 201) },
        Route("POST", "/v1/items", roles: nil) { _ in HTTPResponse(status: 201) },
        Route("GET", "/v1/items", roles: nil) { _ in HTTPResponse(status: 200) },
    ])

    @Test func literalRoutesWinOverParameters() {
        guard case .found(let route, _) = router.match(method: "POST", segments: ["v1", "items", "special"]) else {
            Issue.record("POST /v1/items/special must match its literal route")
            return
        }
        #expect(route.template == "/v1/items/special")
        guard case .methodNotAllowed(let allow, _) = router.match(method: "GET", segments: ["v1", "items", "special"])
        else {
            Issue.record("GET on the literal route is not allowed")
            return
        }
        #expect(allow == ["POST"])
        guard case .found(let byID, let parameters) = router.match(method: "GET", segments: ["v1", "items", "42"])
        else {
            Issue.record("GET /v1/items/42 must match the parameter route")
            return
        }
        #expect(byID.template == "/v1/items/{id}")
        #expect(parameters == ["id": "42"])
        guard case .methodNotAllowed(let both, _) = router.match(method: "DELETE", segments: ["v1", "items"]) else {
            Issue.record("DELETE /v1/items is not allowed")
            return
        }
        #expect(both == ["POST", "GET"])
        guard case .notFound = router.match(method: "GET", segments: ["v2"]) else {
            Issue.record("unknown paths are 404")
            return
        }
    }
}
