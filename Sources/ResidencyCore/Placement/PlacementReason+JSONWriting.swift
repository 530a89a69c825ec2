extension PlacementReason {
    /// The reason as an element of a decision's `reasons` array: `{"code":…,"message":…}`, the bytes of
    /// `{"code": code, "message": message}` encoded as a tree.
    package func writeJSON(into output: inout [UInt8]) { appendJSON(to: &output) }

    /// `writeJSON` into a raw buffer.
    package func writeJSON(into output: inout ByteWriter) { appendJSON(to: &output) }

    func appendJSON<Sink: JSONByteSink & ~Copyable>(to output: inout Sink) {
        output.literal(#"{"code":"#)
        output.quoted(code)
        output.literal(#","message":""#)
        appendMessage(to: &output)
        output.literal(#""}"#)
    }

    /// `message` as the inside of a JSON string (escaped, without the quotes), written straight into `output`.
    ///
    /// A placement answer carries four to six reasons. Building each message as a String, then copying and
    /// escaping it into the answer, took a third of the cost of writing the answer, so the fixed text goes in as
    /// bytes and only the text from policy or the caller is escaped. The bytes are those of
    /// `JSONValue.writeString(message)` without its quotes (`PlacementDecisionEncodingTests` holds every case
    /// equal).
    package func writeMessage(into output: inout [UInt8]) { appendMessage(to: &output) }

    func appendMessage<Sink: JSONByteSink & ~Copyable>(to output: inout Sink) {
        switch self {
        case .declaredCountry(let country):
            output.literal("declared country ")
            output.escaped(country.rawValue)
        case .geolocated(let address, let country, let hasCoordinates):
            output.address(address)
            output.literal(" geolocates to ")
            output.escaped(country.rawValue)
            if hasCoordinates { output.literal(" (with coordinates)") }
        case .geolocatedWithoutCountry(let address):
            output.address(address)
            output.literal(" is in the database but has no country")
        case .notLocatable, .geolocationFailed, .unlocatedFallback, .noPermittedRegion, .overrideUnavailable,
            .overrideApplied, .regionUnavailable, .countryMismatch:
            // Rarer steps: their String is built, as `message` builds it.
            output.escaped(message)
        case .notInDatabase(let address):
            output.address(address)
            output.literal(" is in no network of the geolocation database")
        case .mandatoryRegion(let country, let rule, let region):
            output.literal("customers from ")
            output.escaped(country.rawValue)
            output.literal(" must be hosted in ")
            output.escaped(region)
            output.literal(" (rule ")
            output.escaped(rule)
            output.literal(")")
        case .regionChoice(let country, let rule, let regions):
            output.literal("customers from ")
            output.escaped(country.rawValue)
            output.literal(" may be hosted in ")
            for (index, region) in regions.enumerated() {
                if index > 0 { output.literal(", ") }
                output.escaped(region)
            }
            output.literal(" (rule ")
            output.escaped(rule)
            output.literal(")")
        case .anyRegion(let country):
            output.literal("no residency rule for ")
            output.escaped(country.rawValue)
            output.literal(": every region is a candidate")
        case .requestedRegionHonoured(let region):
            output.literal("requested region ")
            output.escaped(region)
            output.literal(" is permitted and open")
        case .nearestRegion(let region, let kilometres, let from):
            output.escaped(region)
            output.literal(" is the nearest available candidate, ")
            output.decimal(kilometres)
            output.literal(" km from the ")
            output.escaped(from.message)
        case .noCoordinates(let country):
            output.literal("no coordinates for ")
            output.escaped(country.rawValue)
            output.literal(": distance cannot be measured")
        case .firstAvailableRegion(let region):
            output.escaped(region)
            output.literal(" is the first available candidate")
        case .site(let site, let kilometres):
            output.literal("site ")
            output.escaped(site)
            if let kilometres {
                output.literal(", ")
                output.decimal(kilometres)
                output.literal(" km away")
            }
        }
    }
}

extension JSONByteSink where Self: ~Copyable {
    /// An address as its `description` writes it; IPv4 digit by digit, IPv6 (rare here) through the String.
    fileprivate mutating func address(_ address: IPAddress) {
        guard case .v4(let value) = address else {
            escaped(address.description)
            return
        }
        for shift in stride(from: 24, through: 0, by: -8) {
            decimal(Int(value >> UInt32(shift) & 0xFF))
            if shift > 0 { append(UInt8(ascii: ".")) }
        }
    }
}
