/// libFuzzer entry point for the MaxMind DB reader: open arbitrary bytes as a database, look up addresses
/// of every shape, decode what they point to, and verify the whole file. Any crash, hang or sanitizer
/// report is a bug; thrown errors are the expected answer to garbage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMaxMindReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let database = try? MaxMindDatabase(bytes: bytes) else { return 0 }
    let probes: [IPAddress] = [
        .v4(0x0101_0101), .v4(0x0101_0103), .v4(0), .v4(0xFFFF_FFFF),
        .v6(high: 0, low: 0x0101_0100), .v6(high: 0, low: 0x0002_0000_0040), .v6(high: 0x2001_0218_0000_0000, low: 1),
        .v6(high: ~0, low: ~0),
    ]
    for probe in probes {
        _ = try? database.lookup(probe)
        _ = try? database.geoRecord(for: probe)
        _ = try? database.value(for: probe, path: ["map", "mapX"])
    }
    _ = try? database.verify()
    return 0
}
