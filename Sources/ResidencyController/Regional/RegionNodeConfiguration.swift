import Foundation
import ResidencyCore
import ResidencyStore

/// What a regional service keeps about its enrolment (`region.json` in its data directory): which region and
/// site it is, the controller it answers to and that controller's public key, pinned from the join code. Written
/// once at the join (0600, fsync'd, by rename), read at every start; a data directory enrolled as one region
/// refuses to start as another.
package struct RegionNodeConfiguration: Sendable, Equatable {
    package static let fileName = "region.json"

    package let region: String
    package let site: String
    package let controllerURL: String
    package let controllerKey: [UInt8]
    package let enrolledAt: Int64
    /// The controller's ledger verifier key, which the service's witness follows (nil for an enrolment made
    /// before services witnessed).
    package let ledgerKey: String?

    package init(
        region: String, site: String, controllerURL: String, controllerKey: [UInt8], enrolledAt: Int64,
        ledgerKey: String? = nil
    ) {
        self.ledgerKey = ledgerKey
        self.region = region
        self.site = site
        self.controllerURL = controllerURL
        self.controllerKey = controllerKey
        self.enrolledAt = enrolledAt
    }

    package static func url(in directory: URL) -> URL { directory.appendingPathComponent(fileName) }

    /// The enrolment in `directory`, nil when it has none yet; a file that is there but damaged is an error.
    package static func load(from directory: URL) throws -> RegionNodeConfiguration? {
        let url = url(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let bytes = try Array(Data(contentsOf: url))
        guard let value = try? JSONParser.parse(bytes),
            case .string(let region)? = value["region"], case .string(let site)? = value["site"],
            case .string(let controller)? = value["controller_url"], case .string(let key)? = value["controller_key"],
            let keyBytes = Data(base64Encoded: key), keyBytes.count == 32,
            case .string(let enrolled)? = value["enrolled_at"], let enrolledAt = Timestamp.milliseconds(rfc3339: enrolled)
        else {
            throw RegionEnrolmentError(
                "\(url.path) is damaged; restore it from a backup, or remove it and enrol the service again with a new join code")
        }
        var ledgerKey: String?
        if case .string(let key)? = value["ledger_key"] { ledgerKey = key }
        return RegionNodeConfiguration(
            region: region, site: site, controllerURL: controller, controllerKey: Array(keyBytes), enrolledAt: enrolledAt,
            ledgerKey: ledgerKey)
    }

    package func save(in directory: URL) throws {
        let value = JSONValue.object([
            ("controller_key", .string(Data(controllerKey).base64EncodedString())), ("controller_url", .string(controllerURL)),
            ("enrolled_at", .string(Timestamp.rfc3339(milliseconds: enrolledAt))), ("ledger_key", .optional(ledgerKey)),
            ("region", .string(region)), ("site", .string(site)),
        ])
        try AtomicFile.write(value.encodedBytes(pretty: true) + [10], to: Self.url(in: directory))
    }
}
