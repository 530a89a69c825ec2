import Foundation
import Testing

@testable import ResidencyCore

/// The embedded default database against the DB-IP ranges it was built from: random addresses must agree,
/// every one.
@Suite struct ShippedDatabaseTests {
    struct Range {
        let first: (UInt64, UInt64)
        let last: (UInt64, UInt64)
        let country: String
    }

    static func key(_ address: IPAddress) -> (UInt64, UInt64) {
        switch address {
        case .v4(let value): return (0, UInt64(value))
        case .v6(let high, let low): return (high, low)
        }
    }

    /// Reads `dbip-country-lite.tsv.xz` through `xz -dc`; IPv4 and IPv6 ranges, each sorted.
    static func loadRanges() throws -> (v4: [Range], v6: [Range]) {
        let file = Fixtures.geo.appendingPathComponent("dbip-country-lite.tsv.xz")
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw FixtureError("the test data \(file.path) is missing (it is part of the repository)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/xz") else {
            throw FixtureError("xz is not installed (Debian: xz-utils); .ci/run installs it")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xz")
        process.arguments = ["-dc", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureError("xz -dc \(file.path) failed with status \(process.terminationStatus)") }
        var v4: [Range] = []
        var v6: [Range] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: "\t"))
            guard fields.count == 3 else { continue }
            let first = try IPAddress(String(decoding: fields[0], as: UTF8.self))
            let last = try IPAddress(String(decoding: fields[1], as: UTF8.self))
            let range = Range(first: key(first), last: key(last), country: String(decoding: fields[2], as: UTF8.self))
            if first.isIPv4 { v4.append(range) } else { v6.append(range) }
        }
        let order: (Range, Range) -> Bool = { $0.first < $1.first }
        return (v4.sorted(by: order), v6.sorted(by: order))
    }

    static func country(of key: (UInt64, UInt64), in ranges: [Range]) -> String? {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].first <= key { low = middle + 1 } else { high = middle }
        }
        guard low > 0, key <= ranges[low - 1].last else { return nil }
        return ranges[low - 1].country
    }

    static func aliasedIPv4(_ address: IPAddress) -> UInt32? {
        guard case .v6(let high, _) = address else { return nil }
        if high >> 48 == 0x2002 { return UInt32(truncatingIfNeeded: high >> 16) }
        if high >> 32 == 0x2001_0000 { return UInt32(truncatingIfNeeded: high) }
        return nil
    }

    @Test func randomAddressesAgreeWithTheSourceRanges() throws {
        let database = try MaxMindDatabase(path: Fixtures.regions.appendingPathComponent("dbip-country-lite.mmdb").path)
        let ranges = try Self.loadRanges()
        #expect(ranges.v4.count == 355_800)
        #expect(ranges.v6.count == 345_868)
        let rangesV4 = ranges.v4
        var random = SplitMix64(seed: 2026)
        var mismatches: [String] = []
        func check(_ address: IPAddress, _ ranges: [Range]) throws {
            let expected: String?
            if let v4 = Self.aliasedIPv4(address) {
                // MaxMind IPv6 trees alias 6to4 (2002::/16) and Teredo (2001::/32) to the IPv4 subtree, so the
                // file answers for the embedded IPv4 address, as every MaxMind reader does.
                expected = Self.country(of: (0, UInt64(v4)), in: rangesV4)
            } else {
                expected = Self.country(of: Self.key(address), in: ranges)
            }
            let actual = try database.countryCode(for: address)?.rawValue
            if expected != actual && mismatches.count < 10 {
                mismatches.append("\(address): ranges say \(expected ?? "-"), database \(actual ?? "-")")
            }
        }
        for _ in 0..<100_000 {
            try check(.v4(UInt32(truncatingIfNeeded: random.next())), ranges.v4)
        }
        // Uniform IPv6 addresses are almost all unallocated, so half are drawn inside a random source range.
        for index in 0..<100_000 {
            let address: IPAddress
            if index % 2 == 0 {
                address = .v6(high: random.next(), low: random.next())
            } else {
                let range = ranges.v6[Int(random.next() % UInt64(ranges.v6.count))]
                let span = range.first.0 == range.last.0 ? range.last.1 &- range.first.1 : UInt64.max
                let offset = span == UInt64.max ? random.next() : random.next() % (span &+ 1)
                let low = range.first.1 &+ offset
                address = .v6(high: low < range.first.1 ? range.first.0 + 1 : range.first.0, low: low)
            }
            try check(address, ranges.v6)
        }
        // Make sure the aliases were exercised, not just skipped.
        for _ in 0..<1_000 {
            try check(.v6(high: 0x2002_0000_0000_0000 | (random.next() >> 16), low: random.next()), ranges.v6)
            try check(.v6(high: 0x2001_0000_0000_0000 | (random.next() >> 32), low: random.next()), ranges.v6)
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }
}
