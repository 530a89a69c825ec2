/// Work the service does on a schedule rather than for a caller (the retention schedule, access expiry, the
/// refused-calls summary). Failures are the task's to report: no caller waits for them.
package struct PeriodicTask: Sendable {
    package let name: String
    /// Seconds between runs.
    package let interval: Double
    /// Whether the first run is at start rather than one interval later.
    package let runsAtStart: Bool
    let body: @Sendable () -> Void

    package init(name: String, every interval: Double, runsAtStart: Bool = false, _ body: @escaping @Sendable () -> Void)
    {
        self.name = name
        self.interval = interval
        self.runsAtStart = runsAtStart
        self.body = body
    }
}
