/// RFC 3339 timestamps in UTC with millisecond precision, from milliseconds since the Unix epoch.
package enum Timestamp {
    /// `2026-11-22T21:20:00.123Z`.
    package static func rfc3339(milliseconds: Int64) -> String {
        let (year, month, day, secondOfDay, millis) = fields(milliseconds)
        guard (0...9999).contains(year) else {
            // Outside four-digit years: the general (slower) form, with the year as wide as it needs.
            func pad(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
            return
                "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
        }
        // Every request logs a time: digits written in place, no intermediate strings.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            put(year: year, month: month, day: day, secondOfDay: secondOfDay, millis: millis, into: buffer)
            return 24
        }
    }

    /// The same text appended to `output` as UTF-8, without a `String` in between (a streamed report writes one
    /// per line).
    package static func append(rfc3339 milliseconds: Int64, to output: inout [UInt8]) {
        appendRFC3339(milliseconds, to: &output)
    }

    /// The same into a raw buffer (the access log's lines).
    package static func append(rfc3339 milliseconds: Int64, to output: inout ByteWriter) {
        appendRFC3339(milliseconds, to: &output)
    }

    private static func appendRFC3339<Sink: JSONByteSink & ~Copyable>(_ milliseconds: Int64, to output: inout Sink) {
        let (year, month, day, secondOfDay, millis) = fields(milliseconds)
        guard (0...9999).contains(year) else {
            var text = rfc3339(milliseconds: milliseconds)
            text.withUTF8 { output.appendBytes(UnsafeRawBufferPointer($0)) }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            put(year: year, month: month, day: day, secondOfDay: secondOfDay, millis: millis, into: buffer)
            output.appendBytes(UnsafeRawBufferPointer(buffer))
        }
    }

    /// The civil date, the second of its day and the millisecond of `milliseconds` since the epoch (UTC).
    private static func fields(_ milliseconds: Int64) -> (
        year: Int, month: Int, day: Int, secondOfDay: Int, millis: Int
    ) {
        let seconds = milliseconds.floorDivided(by: 1000)
        let days = seconds.floorDivided(by: 86_400)
        let (year, month, day) = civil(fromDays: days)
        return (year, month, day, Int(seconds - days * 86_400), Int(milliseconds - seconds * 1000))
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffZ` into the first 24 bytes of `buffer` (a four-digit year).
    private static func put(
        year: Int, month: Int, day: Int, secondOfDay: Int, millis: Int, into buffer: UnsafeMutableBufferPointer<UInt8>
    ) {
        func put(_ value: Int, _ width: Int, at offset: Int) {
            var value = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                buffer[position] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, 4, at: 0)
        buffer[4] = UInt8(ascii: "-")
        put(month, 2, at: 5)
        buffer[7] = UInt8(ascii: "-")
        put(day, 2, at: 8)
        buffer[10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, 2, at: 11)
        buffer[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, 2, at: 14)
        buffer[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, 2, at: 17)
        buffer[19] = UInt8(ascii: ".")
        put(millis, 3, at: 20)
        buffer[23] = UInt8(ascii: "Z")
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only); nil for anything else.
    package static func milliseconds(rfc3339 text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard index < bytes.count, (48...57).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var millis = 0
        if bytes[19] == UInt8(ascii: ".") {
            let digits = bytes.count - 1 - 20
            guard (1...3).contains(digits), let fraction = number(20..<(bytes.count - 1)) else { return nil }
            millis = fraction * [100, 10, 1][digits - 1]
        } else if bytes.count != 20 {
            return nil
        }
        let days = Self.days(fromCivil: year, month, day)
        guard civil(fromDays: days) == (year, month, day) else { return nil }
        return (days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000 + Int64(millis)
    }

    /// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
