/// Where a streamed report goes: bytes gathered into chunks of `chunkSize` and handed to `deliver` one at a
/// time, so a report of any length costs one chunk of memory here. A long write (a run of encoded lines) is cut
/// into chunks too, never inside a UTF-8 character. `deliver` throwing (a reader gone) stops the report.
package final class ReportOutput {
    private var buffer: [UInt8] = []
    private let chunkSize: Int
    private let deliver: ([UInt8]) throws -> Void
    /// Bytes handed to `deliver` so far.
    package private(set) var delivered = 0

    package init(chunkSize: Int = 64 * 1024, deliver: @escaping ([UInt8]) throws -> Void) {
        self.chunkSize = max(4, chunkSize)
        self.deliver = deliver
        buffer.reserveCapacity(self.chunkSize)
    }

    package func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(buffer: $0) }
    }

    package func write(bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try write(buffer: $0) }
    }

    private func write(buffer bytes: UnsafeBufferPointer<UInt8>) throws {
        var rest = bytes[...]
        while buffer.count + rest.count >= chunkSize {
            // Fill the chunk, backing off to the start of a character (a byte that is not 10xxxxxx) when the
            // cut would fall inside one; a chunk already holding bytes may be handed over a few bytes short.
            var take = chunkSize - buffer.count
            while take > 0, take < rest.count, rest[rest.startIndex + take] & 0xC0 == 0x80 { take -= 1 }
            if take == 0 && buffer.isEmpty {
                // Only continuation bytes ahead of the cut (not UTF-8 text): cut where the chunk is full.
                take = chunkSize
            }
            buffer.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            try flush()
        }
        buffer.append(contentsOf: rest)
    }

    /// Hands over what is gathered (call once the report is written).
    package func flush() throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        delivered += chunk.count
        try deliver(chunk)
    }
}
