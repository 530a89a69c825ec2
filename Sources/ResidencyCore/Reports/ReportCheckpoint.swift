/// The signed ledger checkpoint a report names: every line's ledger index is below `size`, so each can be
/// checked with an inclusion proof against this root and signature.
package struct ReportCheckpoint: Sendable, Hashable {
    package let size: Int
    /// Base64 of the Merkle root.
    package let root: String
    /// The signed note (C2SP tlog-checkpoint).
    package let note: String

    package init(size: Int, root: String, note: String) {
        self.size = size
        self.root = root
        self.note = note
    }

    package var jsonValue: JSONValue {
        .object([("size", .integer(size)), ("root", .string(root)), ("note", .string(note))])
    }
}
