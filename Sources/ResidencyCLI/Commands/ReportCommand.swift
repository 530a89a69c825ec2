import Foundation
import ResidencyController
import ResidencyCore

/// `residency report cross-border|residency-map`: the compliance reports as JSON, CSV or HTML.
enum ReportCommand {
    static let spec = CommandSpec(
        name: "report", abstract: "Compliance reports: cross-border access and the residency map.",
        subcommands: [crossBorder, residencyMap])

    static let output: [OptionSpec] = [
        .option("format", "format", "json, csv or html (default: json)."),
        .option("output", "file", "Write to this file instead of standard output."),
    ]

    static func write(_ text: String, _ arguments: ParsedArguments, _ context: CommandContext) throws {
        if let path = arguments.value("output") {
            try OutputFile.write(text, to: path)
        } else {
            context.standardOutput(text)
        }
    }

    static let crossBorder = CommandSpec(
        name: "cross-border",
        abstract: "Cross-border access for a period: counts, every access with its grant, break-glass, refusals.",
        options: [
            .option("from", "time", "Start (RFC 3339; default: 30 days before --to)."),
            .option("to", "time", "End, exclusive (default: now)."), .option("region", "id", "Only this region."),
            .option("tenant", "id", "Only this tenant."),
        ] + output + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: ReportFormat.json)
        let controller = try AccessCommand.controller(arguments, context, .read)
        let to = try arguments.time("to") ?? controller.clock.now() + 1
        let from = try arguments.time("from") ?? to - 30 * 86_400_000
        // Streamed: the lines are written as they are read, in chunks, so a whole-history report costs a chunk of
        // memory, not the report.
        func produce(_ emit: @escaping ([UInt8]) throws -> Void) throws {
            try controller.reports.streamCrossBorderReport(
                from: from, to: to, region: arguments.value("region"), tenant: arguments.value("tenant"),
                format: format, to: ReportOutput(deliver: emit))
        }
        if let path = arguments.value("output") {
            try OutputFile.write(to: path) { emit in try withoutActuallyEscaping(emit) { try produce($0) } }
        } else {
            try produce { chunk in chunk.withUnsafeBytes { context.writeOutput($0) } }
        }
        return ExitCode.success
    }

    static let residencyMap = CommandSpec(
        name: "residency-map",
        abstract: "Tenants per region and country, pinned tenants, migrations in flight, violations.",
        options: output + [
            .flag("record-audit", "Record the audit behind the violations in the ledger (a residency.audit entry).")
        ] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: ReportFormat.json)
        let report = try AccessCommand.controller(arguments, context, .read).reports.residencyMapReport(
            recordAudit: arguments.flag("record-audit"), by: AccessCommand.actor(arguments).tokenName)
        try write(report.rendered(format), arguments, context)
        return ExitCode.success
    }
}
