import Testing

@testable import ResidencyCore

/// A small deterministic generator, so a failing property reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:db8::", "2001:db8::"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("::ffff:192.0.2.128", "::ffff:c000:280"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
        ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
        ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"),
        ("1:0:0:2::3", "1:0:0:2::3"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ])
    func parsesAndPrintsRFC5952(input: String, canonical: String) throws {
        let address = try IPAddress(input)
        #expect(address.description == canonical)
        #expect(try IPAddress(canonical) == address)
    }

    @Test(arguments: [
        ("010.1.1.1", "leading zeros"),
        ("1.2.3.256", "each IPv4 part must be 0-255"),
        ("1.2.3", "not an IPv4 address"),
        ("1.2.3.4.5", "not an IPv4 address"),
        ("1.2.3.4 ", "not an IPv4 address"),
        (" 1.2.3.4", "not an IPv4 address"),
        ("", "empty"),
        ("example.com", "not an IPv4 address"),
        ("fe80::1%eth0", "zone ids"),
        ("10.0.0.0/8", "a prefix is not an address"),
        ("[::1]", "remove the brackets"),
        ("1::2::3", "'::' may appear only once"),
        ("12345::1", "more than 4 hex digits"),
        ("1:2:3:4:5:6:7:8:9", "not a valid IPv6 address"),
        ("1:2:3:4:5:6:7", "not a valid IPv6 address"),
        ("1:2:3:4:5:6:7:8::", "'::' must stand for at least one group"),
        (":1:2:3:4:5:6:7", "not a valid IPv6 address"),
        ("1:2:3:4:5:6:7:", "not a valid IPv6 address"),
        ("::ffff:1.2.3.04", "embedded IPv4 address is not valid"),
        ("g::1", "not a valid IPv6 address"),
        ("1.2.3.4::", "embedded IPv4 address is not valid"),
    ])
    func refusesWithTheInputQuoted(input: String, reason: String) {
        #expect {
            _ = try IPAddress(input)
        } throws: { error in
            guard let error = error as? IPAddressError else { return false }
            return error.input == input && error.reason.contains(reason) && error.description.contains("\"\(input)\"")
        }
    }

    @Test func randomAddressesRoundTrip() throws {
        var random = SplitMix64(seed: 42)
        for _ in 0..<20_000 {
            let v6 = IPAddress.v6(
                high: random.next() & (random.next() | random.next()), low: random.next() & random.next())
            #expect(try IPAddress(v6.description) == v6)
            #expect(IPAddress(bytes: v6.bytes) == v6)
            let v4 = IPAddress.v4(UInt32(truncatingIfNeeded: random.next()))
            #expect(try IPAddress(v4.description) == v4)
        }
    }

    @Test(arguments: [
        ("10.1.2.3", "10.0.0.0/8"), ("172.31.255.255", "172.16.0.0/12"), ("192.168.1.1", "192.168.0.0/16"),
        ("127.0.0.1", "127.0.0.0/8"), ("169.254.1.1", "169.254.0.0/16"), ("100.64.0.1", "100.64.0.0/10"),
        ("192.0.2.1", "192.0.2.0/24"), ("198.51.100.7", "198.51.100.0/24"), ("203.0.113.9", "203.0.113.0/24"),
        ("224.0.0.1", "224.0.0.0/4"), ("255.255.255.255", "240.0.0.0/4"), ("0.1.2.3", "0.0.0.0/8"),
        ("::1", "::1/128"), ("::", "::/128"), ("fe80::1", "fe80::/10"), ("fd00::1", "fc00::/7"),
        ("2001:db8::1", "2001:db8::/32"), ("ff02::1", "ff00::/8"), ("::ffff:10.0.0.1", "10.0.0.0/8"),
        ("3fff::1", "3fff::/20"), ("2002:c000:201::1", "192.0.2.0/24"), ("2001:0:4136:e378::1", "2001::/23"),
    ])
    func recognisesSpecialPurposeRanges(address: String, prefix: String) throws {
        #expect(SpecialPurposeRange.containing(try IPAddress(address))?.prefix == prefix)
    }

    @Test(arguments: [
        "8.8.8.8", "81.2.69.160", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "172.32.0.1", "100.128.0.1",
        "2002:808:808::1",
    ])
    func publicAddressesAreLocatable(address: String) throws {
        #expect(SpecialPurposeRange.containing(try IPAddress(address)) == nil)
    }
}
