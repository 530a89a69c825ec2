import Foundation
import Testing

@testable import ResidencyCore

/// The MaxMind DB specification project's own test data: what the reference readers are tested on.
@Suite struct MaxMindConformanceTests {
    static let testData = Fixtures.conformance.appendingPathComponent("test-data")
    static let sourceData = Fixtures.conformance.appendingPathComponent("source-data")

    static var sourceFiles: [String] {
        // A missing directory yields one argument naming it, which then fails: never zero test cases.
        Fixtures.listing(sourceData).filter { $0.hasSuffix(".json") || $0.hasPrefix("missing") }
    }

    /// A network as a 128-bit prefix, IPv4 mapped under ::/96 as the writer stores it.
    struct Network {
        let address: IPAddress
        let high: UInt64
        let low: UInt64
        let length: Int

        init(_ cidr: String) throws {
            let parts = cidr.split(separator: "/")
            address = try IPAddress(String(parts[0]))
            switch address {
            case .v4(let value):
                (high, low, length) = (0, UInt64(value), Int(parts[1])! + 96)
            case .v6(let h, let l):
                (high, low, length) = (h, l, Int(parts[1])!)
            }
        }

        func contains(_ other: Network) -> Bool {
            let highMask = length >= 64 ? ~UInt64(0) : (length == 0 ? 0 : ~UInt64(0) << (64 - length))
            let lowMask = length <= 64 ? 0 : ~UInt64(0) << (128 - length)
            return high & highMask == other.high & highMask && low & lowMask == other.low & lowMask
        }
    }

    @Test(arguments: sourceFiles)
    func answersAsTheSourceDataSays(sourceFile: String) throws {
        if sourceFile.hasPrefix("missing") { throw FixtureError(sourceFile) }
        let databaseURL = Self.testData.appendingPathComponent(
            sourceFile.replacingOccurrences(of: ".json", with: ".mmdb"))
        // The source data includes one sandbox file the project publishes no database for.
        guard FileManager.default.fileExists(atPath: databaseURL.path) else { return }
        let database = try MaxMindDatabase(path: databaseURL.path)
        try database.verify()
        let source = try JSONParser.parse(
            Array(try Data(contentsOf: Self.sourceData.appendingPathComponent(sourceFile))))
        guard case .array(let entries) = source else {
            Issue.record("source data is not an array")
            return
        }
        let networks: [(Network, JSONValue)] = try entries.map { entry in
            guard case .object(let members) = entry, let member = members.first else { throw FixtureError("bad entry") }
            return (try Network(member.key), member.value)
        }
        var checked = 0
        for (network, _) in networks {
            // The writer inserts in file order and a later network overwrites what it covers, even a more
            // specific earlier one: the expected record is the last entry containing this address.
            let expected = networks.last { $0.0.contains(network) }!.1
            let probe = network.address
            if database.metadata.ipVersion == 4 && !probe.isIPv4 { continue }
            let actual = try #require(try database.lookup(probe), "\(sourceFile): no record for \(probe)")
            let mismatch = Self.difference(actual, expected, path: "$")
            #expect(mismatch == nil, "\(sourceFile) \(probe): \(mismatch ?? "")")
            checked += 1
        }
        #expect(checked > 0)
    }

    /// Nil when `value` matches the JSON, else the path of the first difference.
    static func difference(_ value: MaxMindValue, _ json: JSONValue, path: String) -> String? {
        switch (value, json) {
        case (.map(let members), .object(let object)):
            if Set(members.keys) != Set(object.map(\.key)) {
                return "\(path): keys \(members.keys.sorted()) vs \(object.map(\.key).sorted())"
            }
            for (key, member) in object {
                if let mismatch = difference(members[key]!, member, path: path + "." + key) { return mismatch }
            }
            return nil
        case (.array(let elements), .array(let array)):
            guard elements.count == array.count else { return "\(path): \(elements.count) elements vs \(array.count)" }
            for (index, pair) in zip(elements, array).enumerated() {
                if let mismatch = difference(pair.0, pair.1, path: "\(path)[\(index)]") { return mismatch }
            }
            return nil
        case (.string(let a), .string(let b)): return a == b ? nil : "\(path): \(a) vs \(b)"
        case (.bool(let a), .bool(let b)): return a == b ? nil : "\(path): \(a) vs \(b)"
        case (.double(let a), .number(let n)):
            return abs(a - (n.doubleValue ?? .nan)) <= 1e-9 * max(1, abs(a)) ? nil : "\(path): \(a) vs \(n)"
        case (.float(let a), .number(let n)):
            return abs(Double(a) - (n.doubleValue ?? .nan)) <= 1e-5 * max(1, abs(Double(a)))
                ? nil : "\(path): \(a) vs \(n)"
        case (.uint128(let high, let low), .number(let n)):
            return high == 0 && String(low) == n.text ? nil : "\(path): uint128 vs \(n)"
        case (.int32(let a), .number(let n)): return String(a) == n.text ? nil : "\(path): \(a) vs \(n)"
        case (_, .number(let n)) where value.integerValue != nil:
            return String(value.integerValue!) == n.text ? nil : "\(path): \(value) vs \(n)"
        default: return "\(path): \(value) vs \(json)"
        }
    }

    func open(_ name: String) throws -> MaxMindDatabase {
        try MaxMindDatabase(path: Self.testData.appendingPathComponent(name).path)
    }

    @Test(arguments: [
        "MaxMind-DB-test-ipv4-24.mmdb", "MaxMind-DB-test-ipv4-28.mmdb", "MaxMind-DB-test-ipv4-32.mmdb",
        "MaxMind-DB-test-mixed-24.mmdb", "MaxMind-DB-test-mixed-28.mmdb", "MaxMind-DB-test-mixed-32.mmdb",
    ])
    func ipv4Networks(file: String) throws {
        let database = try open(file)
        try database.verify()
        // 1.1.1.1/32, 1.1.1.2/31, 1.1.1.4/30, 1.1.1.8/29, 1.1.1.16/28, 1.1.1.32/32; each record {"ip": first address}.
        let expected: [(String, String, Int)] = [
            ("1.1.1.1", "1.1.1.1", 32), ("1.1.1.3", "1.1.1.2", 31), ("1.1.1.7", "1.1.1.4", 30),
            ("1.1.1.9", "1.1.1.8", 29), ("1.1.1.31", "1.1.1.16", 28), ("1.1.1.32", "1.1.1.32", 32),
        ]
        // Mixed databases were written from IPv6 source, so their IPv4 records name the ::/96 address.
        let mixed = file.contains("mixed")
        for (probe, network, length) in expected {
            let address = try IPAddress(probe)
            #expect(
                try database.lookup(address)?["ip"] == .string(mixed ? "::" + network : network), "\(file) \(probe)")
            #expect(try database.match(address)?.prefixLength == length, "\(file) \(probe)")
        }
        #expect(try database.lookup(try IPAddress("1.1.1.33")) == nil)
        #expect(try database.lookup(try IPAddress("255.254.253.123")) == nil)
        if database.metadata.ipVersion == 6 {
            // The writer aliases IPv4-mapped space to the IPv4 subtree.
            #expect(
                try database.lookup(try IPAddress("::ffff:1.1.1.3"))?["ip"] == .string(mixed ? "::1.1.1.2" : "1.1.1.2"))
        }
    }

    @Test(arguments: [
        "MaxMind-DB-test-ipv6-24.mmdb", "MaxMind-DB-test-ipv6-28.mmdb", "MaxMind-DB-test-ipv6-32.mmdb",
        "MaxMind-DB-test-mixed-24.mmdb", "MaxMind-DB-test-mixed-28.mmdb", "MaxMind-DB-test-mixed-32.mmdb",
    ])
    func ipv6Networks(file: String) throws {
        let database = try open(file)
        let expected: [(String, String)] = [
            ("::1:ffff:ffff", "::1:ffff:ffff"), ("::2:0:0", "::2:0:0"), ("::2:0:3f", "::2:0:0"),
            ("::2:0:40", "::2:0:40"), ("::2:0:4f", "::2:0:40"), ("::2:0:50", "::2:0:50"), ("::2:0:57", "::2:0:50"),
            ("::2:0:58", "::2:0:58"), ("::2:0:59", "::2:0:58"),
        ]
        for (probe, network) in expected {
            #expect(try database.lookup(try IPAddress(probe))?["ip"] == .string(network), "\(file) \(probe)")
        }
        #expect(try database.lookup(try IPAddress("::2:0:60")) == nil)
        #expect(try database.lookup(try IPAddress("89fa::")) == nil)
    }

    @Test func decoderDatabaseHoldsEveryType() throws {
        let file = "MaxMind-DB-test-decoder.mmdb"
        let record = try #require(try open(file).lookup(try IPAddress("::1.1.1.0")))
        #expect(record["utf8_string"] == .string("unicode! ☯ - ♫"))
        #expect(record["double"] == .double(42.123456))
        #expect(record["bytes"] == .bytes([0, 0, 0, 42]))
        #expect(record["uint16"] == .uint16(100))
        #expect(record["uint32"] == .uint32(268_435_456))
        #expect(record["int32"] == .int32(-268_435_456))
        #expect(record["uint64"] == .uint64(1_152_921_504_606_846_976))
        #expect(record["uint128"] == .uint128(high: 0x0100_0000_0000_0000, low: 0))
        #expect(record["array"] == .array([.uint32(1), .uint32(2), .uint32(3)]))
        #expect(record["map"]?["mapX"]?["utf8_stringX"] == .string("hello"))
        #expect(record["map"]?["mapX"]?["arrayX"] == .array([.uint32(7), .uint32(8), .uint32(9)]))
        #expect(record["boolean"] == .bool(true))
        #expect(record["float"] == .float(1.1))
        // The zero record stores every type at its smallest.
        let zeros = try #require(try open(file).lookup(try IPAddress("::0.0.0.0")))
        #expect(zeros["uint128"] == .uint128(high: 0, low: 0))
        #expect(zeros["boolean"] == .bool(false))
        #expect(zeros["utf8_string"] == .string(""))
    }

    @Test func otherValidDatabasesVerify() throws {
        for name in [
            "MaxMind-DB-test-nested.mmdb", "MaxMind-DB-test-pointer-decoder.mmdb",
            "MaxMind-DB-test-metadata-pointers.mmdb", "MaxMind-DB-no-ipv4-search-tree.mmdb",
            "MaxMind-DB-string-value-entries.mmdb", "GeoIP2-City-Shield-Test.mmdb", "GeoIP2-Country-Shield-Test.mmdb",
        ] {
            #expect(throws: Never.self, "\(name)") { try open(name).verify() }
        }
        #expect(
            try open("MaxMind-DB-test-metadata-pointers.mmdb").metadata.databaseType == "Lots of pointers in metadata")
    }

    static var badFiles: [String] {
        let badData = Fixtures.conformance.appendingPathComponent("bad-data")
        var files: [String] = []
        for reader in Fixtures.listing(badData) {
            if reader.hasPrefix("missing") { return [reader] }
            for name
                in (try? FileManager.default.contentsOfDirectory(atPath: badData.appendingPathComponent(reader).path))
                ?? []
            where name.hasSuffix(".mmdb") {
                files.append("bad-data/\(reader)/\(name)")
            }
        }
        return files.sorted() + [
            "test-data/MaxMind-DB-test-broken-pointers-24.mmdb", "test-data/MaxMind-DB-test-broken-search-tree-24.mmdb",
            "test-data/GeoIP2-City-Test-Broken-Double-Format.mmdb",
            "test-data/GeoIP2-City-Test-Invalid-Node-Count.mmdb",
        ]
    }

    @Test(arguments: badFiles)
    func corruptFileIsRefused(file: String) throws {
        if file.hasPrefix("missing") { throw FixtureError(file) }
        let path = Fixtures.conformance.appendingPathComponent(file).path
        // A file that is not there would be "refused" too: only a present file proves anything.
        guard FileManager.default.fileExists(atPath: path) else { throw FixtureError("missing test data \(path)") }
        var refusal: String?
        do {
            let database = try MaxMindDatabase(path: path)
            for probe in ["1.1.1.1", "1.1.1.3", "::1.1.1.0", "::2:0:40", "81.2.69.160", "2001:218::1"] {
                _ = try database.lookup(try IPAddress(probe))
            }
            try database.verify()
        } catch {
            refusal = String(describing: error)
        }
        #expect(refusal != nil, "\(file) was accepted")
    }
}
