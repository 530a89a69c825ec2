import Foundation

/// The time source of every use case, injected so tests control it exactly.
public struct Clock: Sendable {
    /// Milliseconds since the Unix epoch.
    public let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64) { self.now = now }

    public static let system = Clock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
