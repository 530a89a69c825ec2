import Foundation
import ResidencyCore
import ResidencyStore

/// A service of the controller: use cases of one concern over the shared `ControllerContext`. Writes go
/// through `context.commit`, reads through `context.read`; the shortcuts below keep the use cases readable.
protocol ControllerService: Sendable {
    var context: ControllerContext { get }
}

extension ControllerService {
    var policies: PolicySet {
        _read { yield context.policies }
    }
    var clock: Clock { context.clock }
    var ledger: Ledger { context.ledger }
    var dataPlane: DataPlane? { context.dataPlane }
    var dataDirectory: URL? { context.dataDirectory }
    var regional: RegionalServices? { context.regional }
}
