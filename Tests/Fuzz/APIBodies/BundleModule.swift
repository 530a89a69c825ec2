import Foundation

/// SwiftPM generates `Bundle.module` for the server's resources; the fuzz build compiles the module with
/// swiftc directly, so it supplies its own. The API serves a stub OpenAPI document when this finds none.
extension Bundle {
    static let module = Bundle.main
}
