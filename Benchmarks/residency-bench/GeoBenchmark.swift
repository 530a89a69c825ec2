import Foundation
import ResidencyController
import ResidencyCore

/// Lookup + `country.iso_code` rate and full placement latency over the same random addresses the
/// libmaxminddb reference program reads.
enum GeoBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let locator = ResourceLocator()
        let regions: URL
        let policiesDirectory: URL
        do {
            regions = try locator.regions(explicit: nil)
            policiesDirectory = try locator.policies(explicit: nil)
        } catch {
            print("error: \(error)")
            return 1
        }
        let path = option("geoip") ?? locator.geoIPDatabase(explicit: nil, regions: regions).path
        let count = Int(option("count") ?? "") ?? 1_000_000

        // The address list: read from a file (one a line) or generated with a fixed seed.
        var texts: [String]
        if let file = option("addresses") {
            texts = (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        } else {
            var state: UInt64 = 0x5EED
            func next() -> UInt64 {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            texts = (0..<count).map { _ in IPAddress.v4(UInt32(truncatingIfNeeded: next())).description }
        }
        if let output = option("write-addresses") {
            try? (texts.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
        }
        let addresses = texts.compactMap { try? IPAddress($0) }

        let database: MaxMindDatabase
        let policies: PolicySet
        do {
            database = try MaxMindDatabase(path: path)
            policies = try PolicySet.load(regions: regions, policies: policiesDirectory)
        } catch {
            print("error: \(error)")
            return 1
        }

        // Lookup + country.iso_code, best of three passes.
        var found = 0
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            var hits = 0
            for address in addresses where (try? database.countryCode(for: address)) != nil { hits += 1 }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = min(best, seconds)
            found = hits
        }
        print("geo.lookups \(addresses.count) addresses")
        print("geo.found \(found) addresses")
        print("geo.lookup_country_rate \(Int(Double(addresses.count) / best)) lookups/s")

        // A full placement decision: address in, decision (region, site, reasons, version) out.
        let placer = SignupPlacer(policies: policies, locator: GeoLocator(database: database, source: path))
        let occupancy: [String: Int] = [:]
        var placed = 0
        best = .infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            var hits = 0
            for address in addresses
            where placer.place(PlacementRequest(ip: address), occupancy: occupancy).region != nil { hits += 1 }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
            placed = hits
        }
        print("placement.placed \(placed) decisions")
        print("placement.latency \(String(format: "%.0f", best / Double(addresses.count))) ns/decision")
        return 0
    }
}
