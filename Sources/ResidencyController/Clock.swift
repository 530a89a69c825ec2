import Foundation

/// The time source of every use case, injected so tests control it exactly.
package struct Clock: Sendable {
    /// Milliseconds since the Unix epoch.
    package let now: @Sendable () -> Int64

    package init(now: @escaping @Sendable () -> Int64) { self.now = now }

    package static let system = Clock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
