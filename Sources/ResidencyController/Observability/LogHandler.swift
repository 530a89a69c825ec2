/// Where log records go: one small protocol, in the spirit of swift-log's `LogHandler`, so a test can capture
/// records and the service can write JSON lines without either knowing the other.
package protocol LogHandler: Sendable {
    func log(_ record: LogRecord)
}

/// How much a record matters. Background work logs `info` when it did something and `error` when it failed.
package enum LogLevel: String, Sendable, Hashable, Comparable, CaseIterable {
    case debug, info, warning, error

    private var order: Int { Self.allCases.firstIndex(of: self)! }

    package static func < (left: LogLevel, right: LogLevel) -> Bool { left.order < right.order }
}

/// One structured record: a fixed message and metadata of identifiers and counts — never personal data,
/// which does not belong in logs any more than in the ledger.
package struct LogRecord: Sendable {
    /// Milliseconds since the Unix epoch.
    package let time: Int64
    package let level: LogLevel
    /// Which part of the program wrote it (`residency.retention`, `residency.ledger`).
    package let label: String
    package let message: String
    package let metadata: [(key: String, value: String)]

    package init(
        time: Int64, level: LogLevel, label: String, message: String, metadata: [(key: String, value: String)] = []
    ) {
        self.time = time
        self.level = level
        self.label = label
        self.message = message
        self.metadata = metadata
    }
}

/// Drops every record: the default where nobody reads the log (in-memory tests, benchmarks).
package struct DiscardingLogHandler: LogHandler {
    package init() {}
    package func log(_ record: LogRecord) {}
}
