import ResidencyController
import ResidencyTLS

/// One client connection as its event loop sees it: the socket, its HTTP rules (`machine`) and the bytes on their
/// way out. Touched only by that loop's thread.
///
/// The properties the loop reads and changes on every request are `@exclusivity(unchecked)`: a class's stored
/// properties are otherwise checked for overlapping access at run time on each use — a dozen checks a request,
/// some 1,100 instructions of a placement's — and one thread, which never holds an access to one across a call
/// that takes another to it, has nothing for the check to find. That makes "only the loop's thread" a rule of
/// memory safety here, with nothing at run time behind it: code on any other thread (a handler pool, a stream
/// producer) reaches a connection only by posting to its loop (`EventLoop.post`), never through a reference.
final class Connection {
    let descriptor: Int32
    /// Unique for the server's lifetime: a handler's answer finds its connection by this, never by a descriptor
    /// number the kernel may already have handed to a newer connection.
    let id: UInt64
    @exclusivity(unchecked) var machine: ConnectionMachine
    /// Bytes not yet taken by the kernel, from `outputOffset` on: responses as they are, or TLS records.
    @exclusivity(unchecked) var output: [UInt8] = []
    @exclusivity(unchecked) var outputOffset = 0
    /// The connection's TLS session when the server serves TLS.
    var tls: TLSSession?
    /// The channel of the streamed answer being sent, if one is.
    var stream: ResponseChannel?
    /// The epoll events currently registered.
    @exclusivity(unchecked) var interest: UInt32
    /// Queued on its loop's list of connections to write at the end of the current epoll batch.
    @exclusivity(unchecked) var awaitsFlush = false
    /// The last bearer token its requests presented and whose it is, handed to each request it makes.
    let bearerMemo = BearerMemo()

    init(descriptor: Int32, id: UInt64, machine: ConnectionMachine, interest: UInt32) {
        self.descriptor = descriptor
        self.id = id
        self.machine = machine
        self.interest = interest
    }

    var hasPendingOutput: Bool { outputOffset < output.count }
    var pendingOutputCount: Int { output.count - outputOffset }
}
