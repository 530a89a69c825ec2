import Foundation

/// `--store URL`, accepted anywhere on the command line by every command: the command line's spelling of
/// `RESIDENCY_STORE`, which the store reads when it opens the controller's tables (`DataDirectory.store`). Taken
/// out before the command's own options are parsed, so no command has to list it.
enum StoreOption {
    /// The arguments without `--store URL` / `--store=URL`; the URL, if given, becomes `RESIDENCY_STORE` for this
    /// process. Runs at the start of `main`, before the command starts any thread.
    static func extract(from arguments: ArraySlice<String>) throws(UsageError) -> ArraySlice<String> {
        var kept: [String] = []
        var value: String?
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument == "--" {
                kept.append(argument)
                while let rest = iterator.next() { kept.append(rest) }
                break
            }
            if argument == "--store" {
                guard let next = iterator.next(), !next.hasPrefix("--") else {
                    throw UsageError("--store needs a value: postgresql://USER@HOST:PORT/DATABASE, or sqlite")
                }
                value = next
            } else if argument.hasPrefix("--store=") {
                value = String(argument.dropFirst("--store=".count))
            } else {
                kept.append(argument)
            }
        }
        if let value { setenv("RESIDENCY_STORE", value, 1) }
        return kept[...]
    }
}
