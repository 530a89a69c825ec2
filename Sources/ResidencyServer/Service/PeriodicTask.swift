/// Work the service does on a schedule rather than for a caller (the retention schedule, access expiry, the
/// refused-calls summary). Failures are the task's to report: no caller waits for them.
public struct PeriodicTask: Sendable {
    public let name: String
    /// Seconds between runs.
    public let interval: Double
    /// Whether the first run is at start rather than one interval later.
    public let runsAtStart: Bool
    let body: @Sendable () -> Void

    public init(name: String, every interval: Double, runsAtStart: Bool = false, _ body: @escaping @Sendable () -> Void)
    {
        self.name = name
        self.interval = interval
        self.runsAtStart = runsAtStart
        self.body = body
    }
}
