import Testing

@testable import ResidencyCore

@Suite struct JSONObjectScannerTests {
    /// Random documents in the ledger's shapes and worse: escapes, unicode, brackets inside strings,
    /// nesting, big and negative integers.
    static func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        let pick = depth > 3 ? random.next() % 5 : random.next() % 7
        switch pick {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .integer(Int(truncatingIfNeeded: random.next()) >> Int(random.next() % 60))
        case 3, 4:
            let alphabet = Array("ab{}[]\",:\\ é😀\n\tz0".unicodeScalars)
            let length = Int(random.next() % 24)
            return .string(
                String(
                    String.UnicodeScalarView(
                        (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })))
        case 5: return .array((0..<Int(random.next() % 4)).map { _ in randomValue(&random, depth: depth + 1) })
        default: return randomObject(&random, depth: depth + 1)
        }
    }

    static func randomObject(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for i in 0..<Int(random.next() % 6) {
            members.append(("k\(i)\(random.next() % 2 == 0 ? "\"" : "")", randomValue(&random, depth: depth)))
        }
        return .object(members)
    }

    @Test func agreesWithTheParserOnRandomObjects() throws {
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let object = Self.randomObject(&random)
            let bytes = try object.canonicalBytes()
            guard case .object(let expected) = try JSONParser.parse(bytes) else {
                Issue.record("not an object"); return
            }
            var seen: [(key: [UInt8], value: JSONValue, string: String?, integer: Int64?)] = []
            try bytes.withUnsafeBytes { buffer in
                try JSONObjectScanner.forEachMember(of: buffer) { key, value in
                    seen.append((Array(key), try JSONParser.parse(Array(value.bytes)), try value.string(), value.int64))
                }
            }
            #expect(seen.count == expected.count)
            for (member, (key, value, string, integer)) in zip(expected, seen) {
                // Keys come back as their encoded (still escaped) bytes.
                #expect(try JSONParser.parse(Array("\"".utf8) + key + Array("\"".utf8)) == .string(member.key))
                #expect(value == member.value)
                if case .string(let text) = member.value { #expect(string == text) } else { #expect(string == nil) }
                if case .number(let n) = member.value {
                    #expect(integer == n.int64Value)
                } else {
                    #expect(integer == nil)
                }
            }
        }
    }

    @Test func toleratesWhitespaceAndFindsNamedKeys() throws {
        let text = " { \"time\" : 17 , \"body\" : { \"staff\" : \"a}b\" } , \"flag\" : true }\n"
        var time: Int64?
        var staff: String?
        var flag: Bool?
        try Array(text.utf8).withUnsafeBytes { buffer in
            try JSONObjectScanner.forEachMember(of: buffer) { key, value in
                if JSONObjectScanner.key(key, is: "time") { time = value.int64 }
                if JSONObjectScanner.key(key, is: "flag") { flag = value.bool }
                if JSONObjectScanner.key(key, is: "body") {
                    #expect(value.isObject)
                    try JSONObjectScanner.forEachMember(of: value.bytes) { key, value in
                        if JSONObjectScanner.key(key, is: "staff") { staff = try value.string() }
                    }
                }
            }
        }
        #expect(time == 17)
        #expect(staff == "a}b")
        #expect(flag == true)
    }

    @Test(arguments: [
        "", "[]", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1 \"b\":2}", "{\"a\":\"x}", "{\"a\":{\"b\":1}", "{a:1}",
        "{\"a\":,}",
    ])
    func refusesBrokenFraming(text: String) {
        #expect(throws: JSONScanError.self) {
            try Array(text.utf8).withUnsafeBytes { buffer in try JSONObjectScanner.forEachMember(of: buffer) { _, _ in }
            }
        }
    }

    /// Every truncation and every single-byte corruption of real entries either scans or throws; none
    /// reads out of bounds (the test runs under the bounds checks of a debug build).
    @Test func survivesTruncationAndCorruption() throws {
        var random = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let bytes = try Self.randomObject(&random).canonicalBytes()
            for cut in 0...bytes.count {
                var mutated = Array(bytes[..<cut])
                if !mutated.isEmpty, random.next() % 2 == 0 {
                    mutated[Int(random.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: random.next())
                }
                _ = try? mutated.withUnsafeBytes { buffer in
                    try JSONObjectScanner.forEachMember(of: buffer) { _, value in
                        _ = try? value.string()
                        _ = value.int64
                    }
                }
            }
        }
    }

    @Test func integersOutsideSixtyFourBitsAreNotIntegers() throws {
        for (text, expected) in [("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min)]
            as [(String, Int64?)]
        {
            Array(text.utf8).withUnsafeBytes { #expect(JSONRawValue(bytes: $0).int64 == expected) }
        }
        for text in ["9223372036854775808", "1.5", "1e3", "-", "\"1\""] {
            Array(text.utf8).withUnsafeBytes { #expect(JSONRawValue(bytes: $0).int64 == nil) }
        }
    }

    @Test func internerSharesLongStringsAndStopsGrowingAtCapacity() {
        var interner = StringInterner(capacity: 4)
        func intern(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { interner.string($0) } }
        let long = "tn_01JH6Q8K4V3M2X9Z7Y5W"
        #expect(intern(long) == long)
        #expect(intern(long) == long)
        #expect(intern("short") == "short")
        for i in 0..<100 { #expect(intern("tenant-number-\(i)-of-many") == "tenant-number-\(i)-of-many") }
        #expect(intern(long) == long)
        #expect(intern("") == "")
        // Capacity 4 means a table of 16 slots, kept at most half full.
        #expect(interner.keptCount == 8)
    }

    @Test func internerGrowsPastItsFirstTableAndKeepsEveryValue() {
        var interner = StringInterner(capacity: 1000)
        func intern(_ text: String) -> String { Array(text.utf8).withUnsafeBytes { interner.string($0) } }
        let texts = (0..<1000).map { "tenant-number-\($0)-of-many" }
        for text in texts { #expect(intern(text) == text) }
        #expect(interner.keptCount == 1000)
        // Found again after the table doubled several times: nothing more is kept.
        for text in texts { #expect(intern(text) == text) }
        #expect(interner.keptCount == 1000)
    }
}
