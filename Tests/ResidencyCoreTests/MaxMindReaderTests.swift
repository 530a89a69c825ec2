import Foundation
import Testing

@testable import ResidencyCore

@Suite struct MaxMindReaderTests {
    static let everyType: MaxMindValue = .map([
        "utf8_string": .string("unicode! ☯ - ♫"),
        "double": .double(42.123456),
        "bytes": .bytes([0, 0, 0, 42]),
        "uint16": .uint16(100),
        "uint32": .uint32(268_435_456),
        "int32": .int32(-268_435_456),
        "uint64": .uint64(1_152_921_504_606_846_976),
        "uint128": .uint128(high: 0x0100_0000_0000_0000, low: 0),
        "array": .array([.uint32(1), .uint32(2), .uint32(3)]),
        "map": .map([
            "mapX": .map(["arrayX": .array([.uint32(7), .uint32(8), .uint32(9)]), "utf8_stringX": .string("hello")])
        ]),
        "boolean": .bool(true),
        "float": .float(1.1),
        "long_string": .string(String(repeating: "x", count: 70_000)),
        "zeros": .map(["uint16": .uint16(0), "int32": .int32(0), "false": .bool(false), "empty": .string("")]),
    ])

    @Test(arguments: [24, 28, 32])
    func decodesEveryTypeAtEveryRecordSize(recordSize: Int) throws {
        var writer = MaxMindWriter()
        writer.recordSize = recordSize
        try writer.insert("1.1.1.0/24", Self.everyType)
        try writer.insert("2001:db8::/32", .map(["country": .map(["iso_code": .string("DE")])]))
        let database = try MaxMindDatabase(bytes: writer.build())
        #expect(database.metadata.recordSize == recordSize)
        #expect(try database.lookup(try IPAddress("1.1.1.77")) == Self.everyType)
        #expect(try database.lookup(try IPAddress("1.1.2.1")) == nil)
        #expect(try database.countryCode(for: try IPAddress("2001:db8:ffff::1")) == CountryCode("DE"))
        #expect(try database.match(try IPAddress("1.1.1.1"))?.prefixLength == 24)
        #expect(
            try database.value(for: try IPAddress("1.1.1.1"), path: ["map", "mapX", "utf8_stringX"]) == .string("hello")
        )
        try database.verify()
    }

    @Test func largeTreesUse28And32BitRecordsFully() throws {
        // Enough nodes that record values pass 2^24, exercising the high nibble of 28-bit records.
        for recordSize in [28, 32] {
            var writer = MaxMindWriter()
            writer.recordSize = recordSize
            writer.ipVersion = 4
            var random = SplitMix64(seed: UInt64(recordSize))
            var expected: [(IPAddress, String)] = []
            for index in 0..<300 {
                let address = IPAddress.v4(UInt32(truncatingIfNeeded: random.next()) | 1)
                try writer.insert(
                    "\(address)/32", .map(["country": .map(["iso_code": .string(index % 2 == 0 ? "FR" : "JP")])]))
                expected.append((address, index % 2 == 0 ? "FR" : "JP"))
            }
            let database = try MaxMindDatabase(bytes: writer.build())
            for (address, country) in expected { #expect(try database.countryCode(for: address)?.rawValue == country) }
        }
    }

    @Test func ipv4TreeRefusesIPv6ButAcceptsMappedAddresses() throws {
        var writer = MaxMindWriter()
        writer.ipVersion = 4
        try writer.insert("8.8.8.0/24", .map(["country": .map(["iso_code": .string("US")])]))
        let database = try MaxMindDatabase(bytes: writer.build())
        #expect(try database.countryCode(for: try IPAddress("::ffff:8.8.8.8")) == CountryCode("US"))
        #expect(throws: MaxMindError.ipv6LookupInIPv4Database("2001:db8::1")) {
            try database.match(try IPAddress("2001:db8::1"))
        }
    }

    @Test func cityRecordsGiveCoordinates() throws {
        var writer = MaxMindWriter()
        try writer.insert(
            "81.2.69.0/24",
            .map([
                "country": .map(["iso_code": .string("GB")]),
                "location": .map(["latitude": .double(51.5142), "longitude": .double(-0.0931)]),
            ]))
        try writer.insert("5.5.5.0/24", .map(["registered_country": .map(["iso_code": .string("NL")])]))
        try writer.insert("6.6.6.0/24", .map(["country_code": .string("SG"), "country": .string("Singapore")]))
        let database = try MaxMindDatabase(bytes: writer.build())
        let record = try #require(try database.geoRecord(for: try IPAddress("81.2.69.160")))
        #expect(record.country == CountryCode("GB"))
        #expect(record.coordinate == Coordinate(latitude: 51.5142, longitude: -0.0931))
        #expect(try database.geoRecord(for: try IPAddress("5.5.5.5"))?.country == CountryCode("NL"))
        #expect(try database.geoRecord(for: try IPAddress("6.6.6.6"))?.country == CountryCode("SG"))
    }

    // MARK: Hostile files

    func validFile() throws -> [UInt8] {
        var writer = MaxMindWriter()
        try writer.insert("1.1.1.0/24", Self.everyType)
        return writer.build()
    }

    /// Opens and fully exercises `bytes`; true when an error was raised (the only acceptable outcome).
    func isRefused(_ bytes: [UInt8], probe: [String] = ["1.1.1.1", "::1", "2001:db8::1", "255.255.255.255"]) -> Bool {
        do {
            let database = try MaxMindDatabase(bytes: bytes)
            for address in probe { _ = try database.lookup(try IPAddress(address)) }
            try database.verify()
            return false
        } catch {
            return true
        }
    }

    @Test func everyTruncationIsRefusedOrSafe() throws {
        let file = try validFile()
        // Chopping the file anywhere must never crash; most cuts lose the metadata and are refused.
        for length in stride(from: 0, to: file.count, by: 7) {
            let truncated = Array(file.prefix(length))
            _ = isRefused(truncated)
        }
        #expect(isRefused([]))
        #expect(isRefused(Array(file.prefix(file.count - 3))))
    }

    @Test func randomByteFlipsNeverCrash() throws {
        let file = try validFile()
        var random = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            var mutated = file
            for _ in 0..<3 {
                mutated[Int(random.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = isRefused(mutated)
        }
    }

    @Test func pointerLoopIsRefused() throws {
        var writer = MaxMindWriter()
        try writer.insert("1.1.1.0/24", .string("placeholder"))
        var file = writer.build()
        // Overwrite the data record with a map whose value is a pointer back to the map itself.
        let dataStart = try MaxMindDatabase(bytes: file).dataStartForTests
        let loop: [UInt8] = [0xE1] + MaxMindWriter.control(type: 2, size: 1) + [UInt8(ascii: "a")] + [0x20, 0x00]
        file.replaceSubrange(dataStart..<dataStart + loop.count, with: loop)
        #expect(isRefused(file, probe: ["1.1.1.1"]))
    }

    @Test func pointerToPointerIsRefused() throws {
        var writer = MaxMindWriter()
        try writer.insert("1.1.1.0/24", .string("placeholder"))
        var file = writer.build()
        let dataStart = try MaxMindDatabase(bytes: file).dataStartForTests
        // Offset 0: a pointer to offset 2; offset 2: a pointer to offset 0.
        file.replaceSubrange(dataStart..<dataStart + 4, with: [0x20, 0x02, 0x20, 0x00])
        #expect(isRefused(file, probe: ["1.1.1.1"]))
    }

    @Test func deepNestingIsRefused() throws {
        var value = MaxMindValue.string("bottom")
        for _ in 0..<100 { value = .array([value]) }
        var writer = MaxMindWriter()
        try writer.insert("1.1.1.0/24", value)
        #expect(isRefused(writer.build(), probe: ["1.1.1.1"]))
    }

    @Test(arguments: [
        ("record_size", MaxMindValue.uint16(20), "record_size 20 is not supported"),
        ("ip_version", .uint16(5), "ip_version 5"),
        ("binary_format_major_version", .uint16(3), "binary_format_major_version 3"),
        ("node_count", .uint32(1_000_000), "does not fit before the metadata"),
        ("node_count", .string("many"), "node_count is not an unsigned integer"),
        ("database_type", .uint16(1), "database_type is missing or not a string"),
        ("build_epoch", .uint64(UInt64.max), "after the year 9999"),
    ])
    func badMetadataIsRefused(field: String, value: MaxMindValue, message: String) throws {
        var writer = MaxMindWriter()
        try writer.insert("1.1.1.0/24", .string("x"))
        writer.extraMetadata[field] = value
        #expect {
            _ = try MaxMindDatabase(bytes: writer.build())
        } throws: { error in
            String(describing: error).contains(message)
        }
    }

    @Test func fileWithoutMetadataIsRefused() {
        #expect(throws: MaxMindError.metadataNotFound) { try MaxMindDatabase(bytes: Array(repeating: 0, count: 1000)) }
        #expect(throws: MaxMindError.self) { try MaxMindDatabase(path: "/nonexistent.mmdb") }
        #expect(throws: MaxMindError.self) { try MaxMindDatabase(path: "/tmp") }
    }

    @Test func recordIntoTheSeparatorIsRefused() throws {
        var writer = MaxMindWriter()
        writer.ipVersion = 4
        try writer.insert("128.0.0.0/1", .string("x"))
        var file = writer.build()
        // Node 0's right record points into the 16-byte separator: node_count + 5.
        let nodeCount = try MaxMindDatabase(bytes: file).metadata.nodeCount
        let record = MaxMindWriter.encodeNode(nodeCount, nodeCount + 5, recordSize: 24)
        file.replaceSubrange(0..<6, with: record)
        #expect {
            _ = try MaxMindDatabase(bytes: file).match(try IPAddress("200.0.0.1"))
        } throws: { error in
            String(describing: error).contains("points outside the data section")
        }
    }
}

extension MaxMindDatabase {
    /// Where the data section starts in the file, for tests that patch it.
    var dataStartForTests: Int { Int(metadata.nodeCount) * metadata.recordSize / 4 + 16 }
}
