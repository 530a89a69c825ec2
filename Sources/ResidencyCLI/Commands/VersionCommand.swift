import ResidencyController
import ResidencyCore

enum VersionCommand {
    static let version = "0.1.0"

    static let spec = CommandSpec(
        name: "version", abstract: "Print the version of residency and the libraries it uses."
    ) {
        _, context in
        context.print(
            "residency \(version) (schema \(StoreVersion.schema), SQLite \(StoreVersion.sqlite), libpq \(StoreVersion.libpq), \(CryptoLibrary.version))"
        )
        return ExitCode.success
    }
}
