import Synchronization

/// The counters the use cases keep, whoever calls them (a signup from the CLI counts in that process too).
///
/// In the spirit of swift-metrics' `CounterHandler`, reduced to what this program needs: names from a closed
/// set, and labels only from closed sets (a catalog region id, a refusal code), so no caller's text can add a
/// series. `/metrics` renders them beside the request metrics.
package final class Counters: Sendable {
    /// The counted things; the raw value is the Prometheus name.
    package enum Name: String, Sendable, Hashable, CaseIterable, Comparable {
        /// Placement decisions by region and outcome (`placed` or the refusal code).
        case placements = "residency_placements_total"
        /// Tenants created by signups, by region (replays of an idempotent signup are not counted).
        case signups = "residency_signups_total"
        /// Ledger checkpoints that could not be signed after a commit (see `ControllerContext.commit`).
        case checkpointSigningFailures = "residency_checkpoint_signing_failures_total"
        /// Actions the retention schedule applied, by action.
        case retentionActions = "residency_retention_actions_total"
        /// Access requests expired by time.
        case accessExpiries = "residency_access_expiries_total"

        package var help: String {
            switch self {
            case .placements: return "Placement decisions by region and outcome."
            case .signups: return "Tenants created by signups, by region."
            case .checkpointSigningFailures: return "Ledger checkpoints that could not be signed after a commit."
            case .retentionActions: return "Retention actions applied, by action."
            case .accessExpiries: return "Access requests and grants expired by time."
            }
        }

        package static func < (left: Name, right: Name) -> Bool { left.rawValue < right.rawValue }
    }

    /// One series: a name and its labels, in a fixed order.
    package struct Series: Hashable, Sendable {
        package let name: Name
        package let labels: [Label]
    }

    package struct Label: Hashable, Sendable {
        package let key: String
        package let value: String
    }

    /// One series' count. A hot path that counts the same few series resolves their cells once (`cell(_:_:)`)
    /// and adds to them with one atomic operation: no lock, no dictionary, no label Strings per count (a
    /// placement's count had cost as much as its geolocation). A cell resolved but never counted is not shown.
    package final class Cell: Sendable {
        private let value = Atomic<Int>(0)
        private let counted = Atomic<Bool>(false)

        package func add(_ amount: Int = 1) {
            value.add(amount, ordering: .relaxed)
            if !counted.load(ordering: .relaxed) { counted.store(true, ordering: .releasing) }
        }

        /// The count, or nil while nothing has been counted.
        var current: Int? { counted.load(ordering: .acquiring) ? value.load(ordering: .relaxed) : nil }
    }

    private let cells = Mutex<[Series: Cell]>([:])

    package init() {}

    /// The cell of a series, made on first use. Label values must come from closed sets.
    package func cell(_ name: Name, _ labels: [(String, String)] = []) -> Cell {
        let series = Series(name: name, labels: labels.map { Label(key: $0.0, value: $0.1) })
        return cells.withLock { cells in
            if let cell = cells[series] { return cell }
            let cell = Cell()
            cells[series] = cell
            return cell
        }
    }

    /// Adds `amount` to a series. Label values must come from closed sets; the call sites name them.
    package func increment(_ name: Name, _ labels: [(String, String)] = [], by amount: Int = 1) {
        cell(name, labels).add(amount)
    }

    /// The value of one series (0 when it was never counted).
    package func value(_ name: Name, _ labels: [(String, String)] = []) -> Int {
        let series = Series(name: name, labels: labels.map { Label(key: $0.0, value: $0.1) })
        return cells.withLock { $0[series] }?.current ?? 0
    }

    /// Every series counted so far, sorted by name and labels.
    package var snapshot: [(series: Series, value: Int)] {
        cells.withLock { $0.compactMap { series, cell in cell.current.map { (series: series, value: $0) } } }.sorted {
            ($0.series.name, $0.series.labels.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
                < ($1.series.name, $1.series.labels.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
    }

    /// The Prometheus text (version 0.0.4) of `names`: every name's HELP and TYPE lines, then its series.
    package func render(_ names: [Name] = Name.allCases) -> String {
        let snapshot = snapshot
        var out = ""
        for name in names {
            out += "# HELP \(name.rawValue) \(name.help)\n# TYPE \(name.rawValue) counter\n"
            for (series, value) in snapshot where series.name == name {
                let labels = series.labels.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(separator: ",")
                out += labels.isEmpty ? "\(name.rawValue) \(value)\n" : "\(name.rawValue){\(labels)} \(value)\n"
            }
        }
        return out
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
