import Foundation
import Testing

@testable import ResidencyCore

/// Placement answers are written into a `ByteWriter` (a raw buffer) instead of a `[UInt8]`; these hold what it
/// holds equal to what the array-based writers give, over hostile text, edge numbers and every growth of the
/// buffer, and every placement answer equal to the tree's bytes.
@Suite struct ByteWriterTests {
    /// Escaping into the raw buffer equals escaping into an array (and JSON's byte-by-byte escape), for every
    /// ASCII byte at every position of strings 1–40 bytes long and for UTF-8 and edge strings, from a buffer
    /// too small for most of them (every one grows it).
    @Test func escapesEqualTheArrayWritersForEveryByteAtEveryPosition() {
        var texts = [
            "", "\"", "\\", "\u{0}", "\u{1F}", "\u{7F}", "Zürich — 東京 \u{1F600} \"quoted\" \\ back\tslash\r\n",
            String(repeating: "\u{7}\"\\x", count: 70), String(repeating: "é", count: 300), "</script>\u{2028}",
        ]
        for byte in UInt8(0)...0x7F {
            for length in 1...40 {
                for position in stride(from: 0, to: length, by: 1) {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = byte
                    texts.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        for text in texts {
            var writer = ByteWriter(capacity: 16)
            writer.append("kept")
            writer.escaped(text)
            writer.quoted(text)
            var array: [UInt8] = Array("kept".utf8)
            JSONValue.writeEscaped(text, into: &array)
            JSONValue.writeString(text, into: &array)
            #expect(writer.bytes == array, "\(text.debugDescription)")
            #expect(writer.count == array.count)
            var alone = ByteWriter(capacity: 1)
            alone.escaped(text)
            #expect(alone.bytes == JSONEscapeScanTests.reference(text), "\(text.debugDescription)")
        }
    }

    /// Digits as `String(value)` writes them, for the edges of every length and sign.
    @Test func decimalsEqualTheirStrings() {
        var values = [0, 1, -1, 9, 10, -10, 99, 100, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power, -(power - 1)]
        }
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 { values.append(Int(bitPattern: UInt(random.next()))) }
        for value in values {
            var writer = ByteWriter(capacity: 1)
            writer.decimal(value)
            var array: [UInt8] = []
            array.decimal(value)
            #expect(writer.bytes == Array(String(value).utf8), "\(value)")
            #expect(array == Array(String(value).utf8), "\(value)")
        }
    }

    /// Pieces of every size across many growths (from a 16-byte buffer to 1 MiB): nothing lost or reordered;
    /// `removeAll` keeps writing from the start.
    @Test func growthKeepsEveryByte() {
        var writer = ByteWriter(capacity: 0)
        var expected: [UInt8] = []
        var random = SplitMix64(seed: 11)
        while expected.count < 1 << 20 {
            let piece = (0..<Int(random.next() % 700)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            piece.withUnsafeBytes { writer.appendBytes($0) }
            writer.append(UInt8(0xAB))
            expected += piece + [0xAB]
        }
        #expect(writer.bytes == expected)
        writer.withBytes { #expect(Array($0) == expected) }
        writer.removeAll()
        writer.append("x")
        #expect(writer.bytes == [UInt8(ascii: "x")])
        #expect(ByteWriter().bytes.isEmpty)
    }

    /// Every country × requested region (none, an unknown one, each) × address × occupancy, placements and
    /// refusals: the answer written into the raw buffer (after other bytes, with and without the policy version's
    /// text and the placer's renderings, from a buffer too small for it) equals the tree's bytes.
    @Test func decisionsWrittenIntoTheBufferEqualTheTree() throws {
        let policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let placer = SignupPlacer(
            policies: policies,
            locator: try GeoLocator(path: Fixtures.regions.appendingPathComponent("dbip-country-lite.mmdb").path))
        let versionText = PolicyVersionText(policies.version)
        let otherVersion = PolicyVersionText(SHA256.hash(Array("another policy".utf8)))
        let full = Dictionary(uniqueKeysWithValues: policies.catalog.regions.map { ($0.id, $0.capacity) })
        let addresses: [IPAddress?] = [
            nil, try IPAddress("10.0.0.1"), try IPAddress("81.2.69.160"), try IPAddress("2a00:1450:4001::1"),
            try IPAddress("8.8.8.8"), try IPAddress("1.1.1.1"), try IPAddress("203.0.113.5"),
        ]
        let countries: [CountryCode?] = [nil] + policies.catalog.countries.countries.keys.sorted()
        let regions: [String?] = [nil, "nowhere", "x\"\\\n"] + policies.catalog.regionIDs
        var compared = 0
        var refusals: Set<String> = []
        for country in countries {
            for (index, region) in regions.enumerated() {
                for occupancy in [[:], full] {
                    let decision = placer.place(
                        PlacementRequest(
                            ip: addresses[(index + compared) % addresses.count], declaredCountry: country,
                            requestedRegion: region, plan: .trial),
                        occupancy: occupancy)
                    let tree = decision.jsonValue.encodedBytes()
                    for (text, renderer) in [(versionText, placer), (otherVersion, nil), (nil, placer), (nil, nil)] {
                        var writer = ByteWriter(capacity: 8)
                        writer.append(#"{"decision":"#)
                        decision.writeJSON(into: &writer, versionText: text, placer: renderer)
                        writer.append("}\n")
                        #expect(writer.bytes == Array(#"{"decision":"#.utf8) + tree + Array("}\n".utf8), "\(decision)")
                    }
                    refusals.insert(decision.refusal?.code.rawValue ?? "placed")
                    compared += 1
                }
            }
        }
        #expect(compared > 2000)
        #expect(refusals.contains("placed") && refusals.contains("unknown_region") && refusals.count >= 4, "\(refusals)")
    }
}
