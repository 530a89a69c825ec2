import Foundation
import Synchronization

/// A response body produced while it is sent, instead of a whole one: `produce` runs on the handler pool and
/// hands the body over in pieces with `Writer.write`. The event loop sends each piece as one chunk
/// (RFC 9112 §7.1) and takes the next only once the socket has taken the one before, so a slow reader costs
/// about a piece of memory, whatever the body's length. A reader that leaves, or takes nothing for the
/// connection's write timeout (the connection is then closed), makes the next `write` throw, which stops the
/// producer and frees its thread.
package final class ResponseStream: Sendable {
    let produce: @Sendable (Writer) throws -> Void

    package init(_ produce: @escaping @Sendable (Writer) throws -> Void) {
        self.produce = produce
    }

    package struct Writer: Sendable {
        /// Where a piece goes: the connection's channel (`ResponseChannel.put`).
        let put: @Sendable ([UInt8]) throws -> Void

        /// Waits until the loop has taken the previous piece, then hands over `piece`; throws once the
        /// connection is gone.
        package func write(_ piece: [UInt8]) throws {
            guard !piece.isEmpty else { return }
            try put(piece)
        }
    }
}

extension HTTPResponse {
    /// The whole body: `body`, or the stream run to its end on this thread (for callers in this process, such
    /// as tests, that want the bytes a server would send).
    func collectedBody() throws -> [UInt8] {
        guard let stream else { return body }
        let collected = Mutex<[UInt8]>([])
        try stream.produce(ResponseStream.Writer { piece in collected.withLock { $0 += piece } })
        return collected.withLock { $0 }
    }
}

/// The reader left (or stalled past the write timeout) while the body was being produced.
package struct ResponseStreamCancelled: Error, CustomStringConvertible {
    package var description: String { "the connection closed while its response was being written" }
}

/// The hand-over between a producer thread and the event loop: at most one piece waits in it.
final class ResponseChannel: @unchecked Sendable {
    // Every field is guarded by `condition`.
    enum Taken {
        case piece([UInt8])
        /// The producer returned (`succeeded`) or threw.
        case finished(succeeded: Bool)
        case nothing
    }

    private let condition = NSCondition()
    private var slot: [UInt8]?
    private var outcome: Bool?
    private var cancelled = false
    /// Tells the loop a piece (or the end) is waiting.
    private let notify: @Sendable () -> Void

    init(notify: @escaping @Sendable () -> Void) {
        self.notify = notify
    }

    /// Producer side: waits while the previous piece is still waiting, then leaves this one.
    func put(_ piece: [UInt8]) throws {
        condition.lock()
        while slot != nil && !cancelled { condition.wait() }
        guard !cancelled else {
            condition.unlock()
            throw ResponseStreamCancelled()
        }
        slot = piece
        condition.unlock()
        notify()
    }

    /// Producer side: the body is complete (`succeeded`) or the producer failed.
    func finish(succeeded: Bool) {
        condition.lock()
        outcome = succeeded
        condition.unlock()
    }

    /// Loop side: the waiting piece (freeing the producer to make the next), else the end, else nothing yet.
    func take() -> Taken {
        condition.lock()
        defer { condition.unlock() }
        if let piece = slot {
            slot = nil
            condition.broadcast()
            return .piece(piece)
        }
        if let outcome { return .finished(succeeded: outcome) }
        return .nothing
    }

    /// Loop side: the connection is gone; a waiting or later `put` throws.
    func cancel() {
        condition.lock()
        cancelled = true
        slot = nil
        condition.broadcast()
        condition.unlock()
    }
}
