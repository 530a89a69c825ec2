import Synchronization

/// What every event loop shares: the configuration, the handlers and the server-wide counters.
final class ServerCore: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let inlineHandler: @Sendable (HTTPRequest) -> HTTPResponse?
    let pool: HandlerPool
    /// The rules every connection follows, from the configuration; refusals are built by `rejecter`.
    let machineConfiguration: ConnectionMachine.Configuration
    /// Open connections, across loops.
    let active = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let nextConnectionID = Atomic<UInt64>(1)
    /// The most bytes any connection's parser has held, for tests that hold it bounded. One relaxed load per
    /// read; written only when it grows.
    let peakParserBytes = Atomic<Int>(0)
    /// Streamed answers whose producer failed (not for a reader that left): each cut its body short.
    let streamFailures = Atomic<Int>(0)

    init(
        configuration: HTTPServer.Configuration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        rejecter: @escaping @Sendable (Int, String) -> HTTPResponse,
        inlineHandler: @escaping @Sendable (HTTPRequest) -> HTTPResponse?
    ) {
        self.configuration = configuration
        self.handler = handler
        self.inlineHandler = inlineHandler
        self.pool = HandlerPool(maximum: configuration.handlerThreads)
        var machineConfiguration = ConnectionMachine.Configuration(rejection: rejecter)
        machineConfiguration.limits = configuration.limits
        machineConfiguration.idleTimeout = configuration.idleTimeout
        machineConfiguration.requestTimeout = configuration.requestTimeout
        machineConfiguration.writeTimeout = configuration.writeTimeout
        self.machineConfiguration = machineConfiguration
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }
}
