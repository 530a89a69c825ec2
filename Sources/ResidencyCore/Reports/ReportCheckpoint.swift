/// The signed ledger checkpoint a report names: every line's ledger index is below `size`, so each can be
/// checked with an inclusion proof against this root and signature.
public struct ReportCheckpoint: Sendable, Hashable {
    public let size: Int
    /// Base64 of the Merkle root.
    public let root: String
    /// The signed note (C2SP tlog-checkpoint).
    public let note: String

    public init(size: Int, root: String, note: String) {
        self.size = size
        self.root = root
        self.note = note
    }

    public var jsonValue: JSONValue {
        .object([("size", .integer(size)), ("root", .string(root)), ("note", .string(note))])
    }
}
