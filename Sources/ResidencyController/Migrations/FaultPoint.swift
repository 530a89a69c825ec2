import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Crash testing: `RESIDENCY_FAULT=<state>:<before|after>` makes the process kill itself with SIGKILL at
/// that point of a migration step — no cleanup, no flushing, as a power cut or the OOM killer would.
enum FaultPoint {
    static let configured: String? = ProcessInfo.processInfo.environment["RESIDENCY_FAULT"]

    static func hit(_ state: String, _ moment: String) {
        guard let configured, configured == "\(state):\(moment)" else { return }
        FileHandle.standardError.write(Data("fault injected at \(configured): SIGKILL\n".utf8))
        kill(getpid(), SIGKILL)
    }
}
