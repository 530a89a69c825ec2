import Foundation
import ResidencyController
import ResidencyCore

/// `residency-bench SUITE [options]`: reproducible measurements, printed as `name value unit` lines that
/// `Scripts/bench` puts side by side with their references.
let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    FileHandle.standardError.write(
        Data(
            "usage: residency-bench geo [--geoip FILE] [--addresses FILE] [--write-addresses FILE] [--count N]\n       residency-bench ledger [--entries N] [--singles N]\n       residency-bench signups [--count N] [--callers N]\n       residency-bench migration [--megabytes N] [--root REPO]\n       residency-bench report --data DIR [--events N] [--root REPO]\n       residency-bench regional --url URL --tenant ID [--token T | --identity DIR --pin PIN] [--mode read|write]\n       residency-bench console --data DIR [--tenants N] [--entries N] [--rounds N] [--root REPO] [--disk-files yes|no]\n"
                .utf8)
    )
    exit(64)
}
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

switch suite {
case "geo":
    exit(GeoBenchmark.run(option: option))
case "ledger":
    exit(LedgerBenchmark.run(option: option))
case "migration":
    exit(MigrationBenchmark.run(option: option))
case "signups":
    exit(SignupBenchmark.run(option: option))
case "report":
    exit(ReportBenchmark.run(option: option))
case "regional":
    exit(RegionalBenchmark.run(option: option))
case "console":
    exit(ConsoleBenchmark.run(option: option))
default:
    FileHandle.standardError.write(
        Data("unknown suite '\(suite)'; available: geo, ledger, signups, migration, report, regional, console\n".utf8))
    exit(64)
}
