/// Where a streamed report goes: bytes gathered into chunks of about `chunkSize` and handed to `deliver` one
/// at a time, so a report of any length costs one chunk of memory here. A chunk is always whole writes, so it
/// never ends inside a UTF-8 character. `deliver` throwing (a reader gone) stops the report.
package final class ReportOutput {
    private var buffer: [UInt8] = []
    private let chunkSize: Int
    private let deliver: ([UInt8]) throws -> Void
    /// Bytes handed to `deliver` so far.
    package private(set) var delivered = 0

    package init(chunkSize: Int = 64 * 1024, deliver: @escaping ([UInt8]) throws -> Void) {
        self.chunkSize = max(1, chunkSize)
        self.deliver = deliver
        buffer.reserveCapacity(self.chunkSize + 4096)
    }

    package func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= chunkSize { try flush() }
    }

    package func write(bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= chunkSize { try flush() }
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
