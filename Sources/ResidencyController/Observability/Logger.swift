/// Writes structured records for one part of the program through a `LogHandler`, stamped by the clock.
package struct Logger: Sendable {
    package let label: String
    package let handler: any LogHandler
    let clock: Clock

    package init(label: String, handler: any LogHandler, clock: Clock = .system) {
        self.label = label
        self.handler = handler
        self.clock = clock
    }

    /// The same handler and clock under another label.
    package func labelled(_ label: String) -> Logger { Logger(label: label, handler: handler, clock: clock) }

    package func log(_ level: LogLevel, _ message: String, _ metadata: [(key: String, value: String)] = []) {
        handler.log(LogRecord(time: clock.now(), level: level, label: label, message: message, metadata: metadata))
    }

    package func info(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.info, message, metadata)
    }

    package func warning(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.warning, message, metadata)
    }

    package func error(_ message: String, _ metadata: [(key: String, value: String)] = []) {
        log(.error, message, metadata)
    }
}
