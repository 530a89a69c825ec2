import Testing

@testable import ResidencyCore

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"a":[1,-2.5e3,true,false,null],"b":"x\u00e9\n\ud83d\ude00","c":{}}"#)
        #expect(
            value["a"]
                == .array([.integer(1), .number(try #require(Self.number("-2.5e3"))), .bool(true), .bool(false), .null])
        )
        #expect(value["b"] == .string("xé\n😀"))
        #expect(value["c"] == .object([]))
    }

    static func number(_ text: String) -> JSONNumber? {
        if case .number(let n) = try? JSONParser.parse(text) { return n }
        return nil
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key \"a\""),
        ("[1,2,]", "expected a value"),
        ("{\"a\":1,}", "expected a string key"),
        ("01", "leading zero"),
        ("1.", "expected a digit after '.'"),
        ("-", "expected a digit"),
        (#""\ud800""#, "lone high surrogate"),
        (#""\udc00""#, "lone low surrogate"),
        ("\"a\u{01}\"", "control character"),
        (#""\x""#, "invalid escape"),
        ("tru", "expected true"),
        ("[1] 2", "unexpected content after"),
        ("// comment\n1", "unexpected character"),
        ("", "unexpected end of input"),
        (#""abc"#, "unterminated string"),
    ])
    func refusesMalformedInput(input: String, message: String) {
        #expect {
            _ = try JSONParser.parse(input)
        } throws: { error in
            (error as? JSONSyntaxError)?.message.contains(message) == true
        }
    }

    /// Duplicate keys are found whether the object is small (a linear scan) or large (a set), wherever the
    /// repeated key falls, and distinct keys are never taken for duplicates.
    @Test(arguments: [1, 2, 15, 16, 17, 40])
    func findsDuplicateKeysInObjectsOfAnySize(size: Int) throws {
        let keys = (0..<size).map { "k\($0)" }
        let distinct = "{" + keys.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        #expect(try JSONParser.parse(distinct)["k0"] == .integer(1))
        for repeated in Set([0, size / 2, size - 1]) {
            let text = "{" + (keys + [keys[repeated]]).map { "\"\($0)\":1" }.joined(separator: ",") + "}"
            #expect {
                _ = try JSONParser.parse(text)
            } throws: { error in
                (error as? JSONSyntaxError)?.message == "duplicate key \"\(keys[repeated])\""
            }
        }
    }

    /// Strings without escapes take a fast path; invalid UTF-8 is still refused there and after an escape.
    @Test func refusesInvalidUTF8WithAndWithoutEscapes() throws {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
        ] {
            #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(bytes) }
        }
        #expect(try JSONParser.parse(Array("\"h\u{e9}llo 漢\"".utf8)) == .string("h\u{e9}llo 漢"))
    }

    @Test func reportsLineAndColumn() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": tru\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func limitsNesting() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func canonicalFormSortsKeysAndDropsWhitespace() throws {
        let value = try JSONParser.parse(#"{ "b": [ 1, {"z":null,"a":"\u0001\"\\"} ], "a": true }"#)
        let canonical = String(decoding: try value.canonicalBytes(), as: UTF8.self)
        #expect(canonical == #"{"a":true,"b":[1,{"a":"\u0001\"\\","z":null}]}"#)
    }

    @Test func canonicalFormRefusesFractionsUnlessAllowed() throws {
        let value = try JSONParser.parse(#"{"lat":53.3498000}"#)
        #expect(throws: JSONEncodingError.self) { try value.canonicalBytes() }
        #expect(String(decoding: try value.canonicalBytes(allowsFractions: true), as: UTF8.self) == #"{"lat":53.3498}"#)
    }

    @Test func encodedOutputRoundTrips() throws {
        let text = #"{"name":"Zoë \"Q\"","n":[1,2.5,-3],"ok":false}"#
        let value = try JSONParser.parse(text)
        #expect(try JSONParser.parse(value.encoded(pretty: true)) == value)
        #expect(value.encoded() == text)
    }
}
