import ResidencyTLS

/// One client connection as its event loop sees it. Touched only by that loop's thread.
final class Connection {
    let descriptor: Int32
    /// Unique for the server's lifetime: a handler's answer finds its connection by this, never by a descriptor
    /// number the kernel may already have handed to a newer connection.
    let id: UInt64
    var parser: HTTPRequestParser
    /// Response bytes not yet taken by the kernel, from `outputOffset` on.
    var output: [UInt8] = []
    var outputOffset = 0
    /// A request of this connection is with the handler pool; nothing more is read or answered until it returns.
    var awaitingHandler = false
    /// Close once `output` is written (Connection: close, a framing error, a timeout, shutdown).
    var closeAfterWrite = false
    var continueSent = false
    /// The parser may hold a complete request not yet taken out (answering paused at the output high-water mark
    /// or for the pool). Nothing is read until it has been: a client pipelining faster than it reads its answers
    /// would otherwise grow the buffer by a read each time the output drained a little.
    var mayHoldRequests = false
    /// When the first byte of the request being received arrived — an empty line before it counts — or when the
    /// previous request was complete. The request deadline counts from it; only a complete request resets it.
    var requestStarted: Double?
    /// When the connection last received bytes or finished a response (the idle deadline counts from it).
    var lastActivity: Double
    /// Since when the kernel has refused more output (the write deadline counts from it).
    var writeStalledSince: Double?
    /// Taken from the backlog during shutdown: it gets one chance to deliver its request.
    var mustServeOne: Bool
    /// Refused mid-request (bad framing, limits, a timeout): after the answer, the write side is shut and what the
    /// client still sends is read and discarded until it closes or `lingerDeadline`, so it gets the answer
    /// instead of a reset (closing over unread bytes sends RST, which can destroy the answer in flight).
    var lingers = false
    var lingerDeadline: Double?
    /// The connection's TLS session when the server serves TLS: `output` then holds TLS records.
    var tls: TLSSession?
    /// The epoll events currently registered.
    var interest: UInt32

    init(descriptor: Int32, id: UInt64, limits: HTTPLimits, now: Double, acceptedDuringShutdown: Bool, interest: UInt32)
    {
        self.descriptor = descriptor
        self.id = id
        self.parser = HTTPRequestParser(limits: limits)
        self.lastActivity = now
        self.mustServeOne = acceptedDuringShutdown
        self.requestStarted = acceptedDuringShutdown ? now : nil
        self.interest = interest
    }

    var hasPendingOutput: Bool { outputOffset < output.count }
    var pendingOutputCount: Int { output.count - outputOffset }
}
