import Foundation
import ResidencyCore

/// The answers of `geo lookup`, gathered and written to standard output 64 KiB at a time.
///
/// A line of standard input that is a plain IPv4 address, asked for as TSV, takes a path that builds no
/// String: its bytes are parsed where they were read and the answer is written as bytes. Every other line
/// (IPv6, a malformed or non-ASCII line, JSON output) goes through `handle(_:label:)`, the path every line
/// took before, so the answers and the messages about bad lines are the same whichever path a line takes.
struct BulkLookup {
    /// Output is written once it reaches this size, and standard input read in blocks of it.
    static let blockSize = 1 << 16

    let locator: GeoLocator
    let format: GeoCommand.Format
    let context: CommandContext
    /// Addresses that were malformed.
    private(set) var bad = 0
    /// Lines of standard input read so far, for the messages about bad ones.
    private var line = 0
    private var output: [UInt8] = []
    private var records = GeoLocator.RecordCache()

    init(locator: GeoLocator, format: GeoCommand.Format, context: CommandContext) {
        self.locator = locator
        self.format = format
        self.context = context
        output.reserveCapacity(Self.blockSize + 1024)
    }

    /// Answers one address given as text; a malformed one is reported on standard error under `label`.
    mutating func handle(_ text: String, label: String) throws {
        let address: IPAddress
        switch IPAddress.parse(text) {
        case .success(let parsed): address = parsed
        case .failure(let error):
            context.printError("\(label): \(error)")
            bad += 1
            return
        }
        let answer = try locator.locate(address)
        var country: String?
        var coordinate: Coordinate?
        var note: String?
        switch answer {
        case .located(let record):
            country = record.country?.rawValue
            coordinate = record.coordinate
        case .notInDatabase: note = "not in database"
        case .notLocatable(let range): note = "not locatable: \(range.name) \(range.prefix)"
        }
        let formatted: String
        switch format {
        case .tsv:
            formatted = [
                text, country ?? "-", coordinate.map { String($0.latitude) } ?? "-",
                coordinate.map { String($0.longitude) } ?? "-",
            ].joined(separator: "\t")
        case .json:
            var members: [(key: String, value: JSONValue)] = [
                ("ip", .string(text)), ("country", .optional(country)),
            ]
            members.append(("latitude", coordinate.map { .double($0.latitude) } ?? .null))
            members.append(("longitude", coordinate.map { .double($0.longitude) } ?? .null))
            if let note { members.append(("note", .string(note))) }
            formatted = JSONValue.object(members).encoded()
        }
        output.append(contentsOf: formatted.utf8)
        output.append(UInt8(ascii: "\n"))
        flushIfFull()
    }

    /// One line of standard input as `readLine` answers it (without its newline).
    mutating func handle(line text: String) throws {
        line += 1
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return }
        try handle(trimmed, label: "stdin line \(line)")
    }

    /// Every line `read` gives, in blocks: `read` fills what it can of a buffer and answers how many bytes,
    /// 0 at the end.
    mutating func handleLines(from read: (UnsafeMutableRawBufferPointer) -> Int) throws {
        var buffer = [UInt8](repeating: 0, count: Self.blockSize)
        // Bytes at the start of `buffer` that belong to a line not yet ended.
        var pending = 0
        while true {
            if pending == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let count = buffer.withUnsafeMutableBytes { read(UnsafeMutableRawBufferPointer(rebasing: $0[pending...])) }
            if count <= 0 { break }
            let end = pending + count
            var start = 0
            try buffer.withUnsafeBytes { bytes in
                let base = bytes.baseAddress!
                var from = pending
                while from < end, let found = memchr(base + from, Int32(UInt8(ascii: "\n")), end - from) {
                    let newline = UnsafeRawPointer(found) - base
                    try handle(lineBytes: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), ended: true)
                    start = newline + 1
                    from = start
                }
            }
            pending = end - start
            if start > 0 && pending > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, pending)
                }
            }
        }
        if pending > 0 {
            try buffer.withUnsafeBytes { bytes in
                try handle(lineBytes: UnsafeRawBufferPointer(rebasing: bytes[0..<pending]), ended: false)
            }
        }
    }

    /// One line's bytes without its `\n`; `ended` when a `\n` followed (a `\r` before it is dropped too, as
    /// `readLine` does).
    private mutating func handle(lineBytes: UnsafeRawBufferPointer, ended: Bool) throws {
        var upper = lineBytes.count
        if ended && upper > 0 && lineBytes[upper - 1] == UInt8(ascii: "\r") { upper -= 1 }
        var lower = 0
        while lower < upper, lineBytes[lower] == UInt8(ascii: " ") || lineBytes[lower] == UInt8(ascii: "\t") {
            lower += 1
        }
        while upper > lower, lineBytes[upper - 1] == UInt8(ascii: " ") || lineBytes[upper - 1] == UInt8(ascii: "\t") {
            upper -= 1
        }
        let trimmed = UnsafeRawBufferPointer(rebasing: lineBytes[lower..<upper])
        if format == .tsv, let address = IPAddress(ipv4: trimmed) {
            line += 1
            try answerTSV(address, text: trimmed)
        } else {
            // Leading and trailing blanks other than spaces and tabs are trimmed here, as they always were.
            var end = lineBytes.count
            if ended && end > 0 && lineBytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            try handle(line: String(decoding: UnsafeRawBufferPointer(rebasing: lineBytes[..<end]), as: UTF8.self))
        }
    }

    /// The TSV answer for an address already parsed, its text written back as it was given.
    private mutating func answerTSV(_ address: IPAddress, text: UnsafeRawBufferPointer) throws {
        let dash = UInt8(ascii: "-")
        let tab = UInt8(ascii: "\t")
        output.append(contentsOf: text)
        output.append(tab)
        if case .located(let record) = try locator.locate(address, cache: &records) {
            if let country = record.country {
                output.append(contentsOf: country.rawValue.utf8)
            } else {
                output.append(dash)
            }
            if let coordinate = record.coordinate {
                output.append(tab)
                output.append(contentsOf: String(coordinate.latitude).utf8)
                output.append(tab)
                output.append(contentsOf: String(coordinate.longitude).utf8)
            } else {
                appendDashes(2)
            }
        } else {
            output.append(dash)
            appendDashes(2)
        }
        output.append(UInt8(ascii: "\n"))
        flushIfFull()
    }

    /// `count` absent columns: a tab and a dash each.
    private mutating func appendDashes(_ count: Int) {
        for _ in 0..<count {
            output.append(UInt8(ascii: "\t"))
            output.append(UInt8(ascii: "-"))
        }
    }

    private mutating func flushIfFull() {
        if output.count >= Self.blockSize { flush() }
    }

    /// Writes what is gathered.
    mutating func flush() {
        guard !output.isEmpty else { return }
        output.withUnsafeBytes { context.writeOutput($0) }
        output.removeAll(keepingCapacity: true)
    }
}
