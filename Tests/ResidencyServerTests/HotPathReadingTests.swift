import Testing

@testable import ResidencyCore
@testable import ResidencyServer

/// The placement route's byte-level readers against the general ones they stand in for.
@Suite struct HotPathReadingTests {
    /// Wherever the plain-member reader answers, it answers the members the full JSON parser reads; it steps
    /// aside (nil) for everything that is not a plain object of plain strings.
    @Test func plainMembersAgreeWithTheParser() throws {
        let accepted = [
            #"{"ip":"81.2.69.160","plan":"trial"}"#, "{}", " \t\r\n{ } \n", #"{ "a" : "" , "b":"x y" }"#,
            #"{"country":"DE","region":"eu","plan":"paid","ip":"::1"}"#,
        ]
        let refused = [
            "", "{", "}", "[]", "\"x\"", "null", #"{"a":"b",}"#, #"{"a":"b"} x"#, #"{"a":"b"}{}"#, #"{"a":1}"#,
            #"{"a":null}"#, #"{"a":["b"]}"#, #"{"a":"D\u0045"}"#, #"{"a":"\\"}"#, #"{"a\"":"b"}"#,
            #"{"a":"b","a":"c"}"#,
            "{\"a\":\"é\"}", "{\"a\":\"\u{01}\"}", "{\"a\":\"\t\"}", #"{"a" "b"}"#, #"{"a":"b" "c":"d"}"#, #"{a:"b"}"#,
            #"{"a":"b","c":"d","e":"f","g":"h","i":"j"}"#, #"{"a":"b"#,
        ]
        for body in accepted + refused {
            var members: [(String, String)] = []
            let read = JSONStringMembers.read(Array(body.utf8), maximumMembers: 4) { key, value in
                members.append((String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self)))
                return true
            }
            #expect((read != nil) == accepted.contains(body), "\(body)")
            guard read != nil else { continue }
            guard case .object(let parsed) = try JSONParser.parse(Array(body.utf8)) else {
                Issue.record("not an object: \(body)")
                continue
            }
            #expect(parsed.map(\.key) == members.map(\.0), "\(body)")
            #expect(parsed.map(\.value) == members.map { JSONValue.string($0.1) }, "\(body)")
        }
        // A member the caller refuses makes the whole reading step aside.
        #expect(JSONStringMembers.read(Array(#"{"a":"b"}"#.utf8), maximumMembers: 4) { _, _ in false } == nil)
    }

    static func parse(_ head: String) throws -> HTTPRequest {
        var parser = HTTPRequestParser()
        parser.append(Array((head + "\r\n\r\n").utf8))
        guard case .request(let request) = try parser.next() else { throw HTTPParseError(status: 0, message: "") }
        return request
    }

    /// Fields read off the head: any case asks, the first of repeated names answers, `headers` lists them all
    /// in order with lower-cased names, and a field nobody sent is nil.
    @Test func headerFieldsAreReadLazilyAndIgnoringCase() throws {
        let request = try Self.parse(
            "GET /a/b%20c/?x=1 HTTP/1.1\r\nHost: h:8\r\nX-Thing:  one \t\r\nx-thing: two\r\nAUTHORIZATION: Bearer s\r\nEmpty:"
        )
        #expect(request.header("x-thing") == "one")
        #expect(request.header("X-THING") == "one")
        #expect(request.header("authorization") == "Bearer s")
        #expect(request.header("empty") == "")
        #expect(request.header("missing") == nil)
        #expect(request.header("x-thin") == nil)
        #expect(request.headers.map(\.name) == ["host", "x-thing", "x-thing", "authorization", "empty"])
        #expect(request.headers.map(\.value) == ["h:8", "one", "two", "Bearer s", ""])
        #expect(request.pathSegments == ["a", "b c"])
        #expect(request.queryValue("x") == "1")
        let made = HTTPRequest(
            method: "GET", target: "/", pathSegments: [], query: [], minorVersion: 1,
            headers: [("content-type", "text/plain"), ("x", "1")], body: [])
        #expect(made.header("Content-Type") == "text/plain" && made.header("x") == "1" && made.header("y") == nil)
    }

    /// `hasMediaType`, the one reading of Content-Type: the media type before any parameters, spaces and tabs
    /// trimmed, ASCII case ignored — for every way a client writes the header.
    @Test func mediaTypeIsReadOffTheBytes() throws {
        let json: [(String, Bool)] = [
            ("application/json", true), ("Application/JSON", true), (" application/json ; charset=utf-8", true),
            ("application/json;", true), ("\tapplication/json\t", true), ("APPLICATION/JSON;charset=x", true),
            ("application/jsonx", false), ("application/jso", false), ("text/plain", false), ("", false),
            (";application/json", false), ("application/ json", false), ("application/json x", false),
        ]
        for (value, expected) in json {
            let request = try Self.parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: \(value)")
            #expect(request.hasMediaType("application/json") == expected, "\(value)")
        }
        let form = try Self.parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: Application/X-WWW-Form-Urlencoded; x=1")
        #expect(form.hasMediaType("application/x-www-form-urlencoded") && !form.hasMediaType("application/json"))
        let none = try Self.parse("POST / HTTP/1.1\r\nHost: h")
        #expect(!none.hasMediaType("application/json") && !none.hasMediaType(""))
    }
}
