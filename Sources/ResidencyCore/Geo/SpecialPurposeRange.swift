/// Address ranges that say nothing about where a customer is (IANA special-purpose registries,
/// RFC 6890 and successors): private networks, loopback, link-local, documentation and the like.
package struct SpecialPurposeRange: Sendable, Hashable {
    package let prefix: String
    package let name: String

    /// The special-purpose range `address` falls in, if any. IPv4-mapped and 6to4 addresses are judged by
    /// their embedded IPv4 address.
    package static func containing(_ address: IPAddress) -> SpecialPurposeRange? {
        switch address.unwrappingEmbeddedIPv4 {
        case .v4(let value):
            for range in v4 where value & range.mask == range.network { return range.range }
        case .v6(let high, let low):
            for range in v6 {
                let matches: Bool
                if range.length <= 64 {
                    let mask = range.length == 0 ? 0 : ~UInt64(0) << (64 - range.length)
                    matches = high & mask == range.high
                } else {
                    let mask = ~UInt64(0) << (128 - range.length)
                    matches = high == range.high && low & mask == range.low
                }
                if matches { return range.range }
            }
        }
        return nil
    }

    private static func v4(
        _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ length: UInt32, _ name: String
    )
        -> (network: UInt32, mask: UInt32, range: SpecialPurposeRange)
    {
        let network = a << 24 | b << 16 | c << 8 | d
        let mask = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return (network, mask, SpecialPurposeRange(prefix: "\(a).\(b).\(c).\(d)/\(length)", name: name))
    }

    private static let v4: [(network: UInt32, mask: UInt32, range: SpecialPurposeRange)] = [
        v4(0, 0, 0, 0, 8, "\"this network\" (RFC 791)"),
        v4(10, 0, 0, 0, 8, "private network (RFC 1918)"),
        v4(100, 64, 0, 0, 10, "shared address space / carrier-grade NAT (RFC 6598)"),
        v4(127, 0, 0, 0, 8, "loopback (RFC 1122)"),
        v4(169, 254, 0, 0, 16, "link-local (RFC 3927)"),
        v4(172, 16, 0, 0, 12, "private network (RFC 1918)"),
        v4(192, 0, 0, 0, 24, "IETF protocol assignments (RFC 6890)"),
        v4(192, 0, 2, 0, 24, "documentation TEST-NET-1 (RFC 5737)"),
        v4(192, 88, 99, 0, 24, "deprecated 6to4 relay anycast (RFC 7526)"),
        v4(192, 168, 0, 0, 16, "private network (RFC 1918)"),
        v4(198, 18, 0, 0, 15, "benchmarking (RFC 2544)"),
        v4(198, 51, 100, 0, 24, "documentation TEST-NET-2 (RFC 5737)"),
        v4(203, 0, 113, 0, 24, "documentation TEST-NET-3 (RFC 5737)"),
        v4(224, 0, 0, 0, 4, "multicast (RFC 5771)"),
        v4(240, 0, 0, 0, 4, "reserved (RFC 1112), including broadcast 255.255.255.255"),
    ]

    private static func v6(
        _ high: UInt64, _ low: UInt64, _ length: Int, _ prefix: String, _ name: String
    )
        -> (high: UInt64, low: UInt64, length: Int, range: SpecialPurposeRange)
    {
        (high, low, length, SpecialPurposeRange(prefix: prefix, name: name))
    }

    private static let v6: [(high: UInt64, low: UInt64, length: Int, range: SpecialPurposeRange)] = [
        v6(0, 0, 128, "::/128", "unspecified address (RFC 4291)"),
        v6(0, 1, 128, "::1/128", "loopback (RFC 4291)"),
        v6(0, 0, 96, "::/96", "deprecated IPv4-compatible addresses (RFC 4291)"),
        v6(0x0064_ff9b_0001_0000, 0, 48, "64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
        v6(0x0100_0000_0000_0000, 0, 64, "100::/64", "discard-only (RFC 6666)"),
        v6(0x2001_0db8_0000_0000, 0, 32, "2001:db8::/32", "documentation (RFC 3849)"),
        v6(0x2001_0000_0000_0000, 0, 23, "2001::/23", "IETF protocol assignments (RFC 2928)"),
        v6(0x3fff_0000_0000_0000, 0, 20, "3fff::/20", "documentation (RFC 9637)"),
        v6(0xfc00_0000_0000_0000, 0, 7, "fc00::/7", "unique local address (RFC 4193)"),
        v6(0xfe80_0000_0000_0000, 0, 10, "fe80::/10", "link-local (RFC 4291)"),
        v6(0xfec0_0000_0000_0000, 0, 10, "fec0::/10", "deprecated site-local (RFC 3879)"),
        v6(0xff00_0000_0000_0000, 0, 8, "ff00::/8", "multicast (RFC 4291)"),
    ]
}
