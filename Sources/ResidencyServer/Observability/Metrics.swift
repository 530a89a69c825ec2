import ResidencyCore
import Synchronization

/// The request counters and histograms exposed at `/metrics` in the Prometheus text format (version 0.0.4). The
/// use cases' own counts (placements, signups, retention actions) are kept where they happen, in the controller's
/// `Counters`, and rendered beside these.
package final class Metrics: Sendable {
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var sum = 0.0
        var count = 0

        mutating func record(_ seconds: Double) {
            for (index, bound) in Metrics.buckets.enumerated() where seconds <= bound { counts[index] += 1 }
            sum += seconds
            count += 1
        }

        mutating func add(_ other: Histogram) {
            for index in counts.indices { counts[index] += other.counts[index] }
            sum += other.sum
            count += other.count
        }
    }

    struct State {
        var requests: [RequestKey: Int] = [:]
        var latency: [RouteLabel: Histogram] = [:]
    }

    /// Labels of closed sets only (see `MethodLabel`, `RouteLabel`, `StatusLabel`): no request adds a series.
    struct RequestKey: Hashable { let route: RouteLabel, method: MethodLabel, status: StatusLabel }

    /// Shards, each behind its own lock, chosen by thread: with one lock every request thread queued on it
    /// (measured: a quarter of all CPU time in the lock's slow path at 64 connections).
    private let shards: [Shard]

    final class Shard: Sendable {
        let state = Mutex(State())
    }

    /// Access-log lines dropped so far (the log's reader fell behind); read at each scrape.
    private let droppedLogLines: @Sendable () -> Int

    /// `droppedLogLines` reports the access log's dropped lines (`AccessLogWriter.droppedLines`).
    package init(shardCount: Int = 16, droppedLogLines: @escaping @Sendable () -> Int = { 0 }) {
        shards = (0..<shardCount).map { _ in Shard() }
        self.droppedLogLines = droppedLogLines
    }

    private var shard: Shard {
        shards[ThreadShard.index(count: shards.count)]
    }

    func recordRequest(route: RouteLabel, method: MethodLabel, status: StatusLabel, seconds: Double) {
        shard.state.withLock { state in
            state.requests[RequestKey(route: route, method: method, status: status), default: 0] += 1
            state.latency[route, default: Histogram()].record(seconds)
        }
    }

    /// Request series so far (route, method and status combinations).
    var requestSeriesCount: Int { snapshot().requests.count }

    /// All shards added together.
    private func snapshot() -> State {
        var total = State()
        for shard in shards {
            let part = shard.state.withLock { $0 }
            total.requests.merge(part.requests, uniquingKeysWith: +)
            for (route, histogram) in part.latency { total.latency[route, default: Histogram()].add(histogram) }
        }
        return total
    }

    /// The exposition text; `tenants` is the current number of live tenants per region.
    package func render(tenants: [String: Int]) -> String {
        let snapshot = snapshot()
        func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        var out = "# HELP residency_http_requests_total HTTP requests by route, method and status.\n"
        out += "# TYPE residency_http_requests_total counter\n"
        for (key, count) in snapshot.requests.sorted(by: {
            ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status)
        }) {
            out +=
                "residency_http_requests_total{route=\"\(escape(key.route.template))\",method=\"\(key.method.rawValue)\",status=\"\(key.status.text)\"} \(count)\n"
        }
        out += "# HELP residency_http_request_duration_seconds Time from a parsed request to its response.\n"
        out += "# TYPE residency_http_request_duration_seconds histogram\n"
        for (route, histogram) in snapshot.latency.sorted(by: { $0.key < $1.key }) {
            let label = escape(route.template)
            for (index, bound) in Self.buckets.enumerated() {
                out +=
                    "residency_http_request_duration_seconds_bucket{route=\"\(label)\",le=\"\(bound)\"} \(histogram.counts[index])\n"
            }
            out += "residency_http_request_duration_seconds_bucket{route=\"\(label)\",le=\"+Inf\"} \(histogram.count)\n"
            out += "residency_http_request_duration_seconds_sum{route=\"\(label)\"} \(histogram.sum)\n"
            out += "residency_http_request_duration_seconds_count{route=\"\(label)\"} \(histogram.count)\n"
        }
        out += "# HELP residency_log_lines_dropped_total Access-log lines dropped because their reader fell behind.\n"
        out += "# TYPE residency_log_lines_dropped_total counter\n"
        out += "residency_log_lines_dropped_total \(droppedLogLines())\n"
        out += "# HELP residency_tenants Live tenants by region.\n"
        out += "# TYPE residency_tenants gauge\n"
        for (region, count) in tenants.sorted(by: { $0.key < $1.key }) {
            out += "residency_tenants{region=\"\(region)\"} \(count)\n"
        }
        return out
    }
}
