/// Writes structured records for one part of the program through a `LogHandler`, stamped by the clock.
public struct Logger: Sendable {
    public let label: String
    public let handler: any LogHandler
    let clock: Clock

    public init(label: String, handler: any LogHandler, clock: Clock = .system) {
        self.label = label
        self.handler = handler
        self.clock = clock
    }

    /// The same handler and clock under another label.
    public func labelled(_ label: String) -> Logger { Logger(label: label, handler: handler, clock: clock) }

    public func log(_ level: LogLevel, _ message: String, _ metadata: [(key: String, value: String)] = []) {
        handler.log(LogRecord(time: clock.now(), level: level, label: label, message: message, metadata: metadata))
    }

    public func info(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.info, message, metadata)
    }

    public func warning(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.warning, message, metadata)
    }

    public func error(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.error, message, metadata)
    }
}
