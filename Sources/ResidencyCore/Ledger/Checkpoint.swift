import Foundation

/// A C2SP tlog-checkpoint: the log's origin, its size, and the root hash at that size.
package struct Checkpoint: Sendable, Hashable {
    package let origin: String
    package let size: Int
    package let root: SHA256Digest

    package init(origin: String, size: Int, root: SHA256Digest) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// `<origin>\n<size>\n<base64 root>\n`: the text that is signed.
    package var body: String { "\(origin)\n\(size)\n\(Data(root.bytes).base64EncodedString())\n" }

    /// Parses a checkpoint body (the signed text of a note).
    package init(body: String) throws(CryptoError) {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, lines.last == "", let size = Int(lines[1]), size >= 0, String(size) == lines[1],
            let data = Data(base64Encoded: String(lines[2])), let root = SHA256Digest(bytes: Array(data)),
            !lines[0].isEmpty
        else { throw CryptoError("not a checkpoint: expected origin, size and base64 root hash on three lines") }
        self.init(origin: String(lines[0]), size: size, root: root)
    }

    /// Verifies a signed checkpoint note with `verifier`.
    package static func verified(note: String, verifier: NoteVerifier) throws(CryptoError) -> Checkpoint {
        guard let text = verifier.verifiedText(of: note) else {
            throw CryptoError("the checkpoint has no valid signature by \(verifier.name)")
        }
        return try Checkpoint(body: text)
    }
}
