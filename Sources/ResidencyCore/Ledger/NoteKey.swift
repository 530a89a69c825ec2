import Foundation

/// A signed-note key (C2SP signed-note, as Go's `golang.org/x/mod/sumdb/note`): a name, an Ed25519 key, and
/// a 4-byte key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[0:4].
package struct NoteSigner: Sendable {
    package let name: String
    package let privateKey: Ed25519PrivateKey

    package init(name: String, privateKey: Ed25519PrivateKey) throws(CryptoError) {
        guard NoteVerifier.isValidName(name) else {
            throw CryptoError("note key name \"\(name)\" must be non-empty, with no spaces or '+'")
        }
        self.name = name
        self.privateKey = privateKey
    }

    package var verifier: NoteVerifier { NoteVerifier(name: name, publicKey: privateKey.publicKey) }

    /// `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`, the format Go's note package reads.
    package var encoded: String {
        "PRIVATE+KEY+\(name)+\(verifier.keyIDHex)+\(Data([0x01] + privateKey.seed).base64EncodedString())"
    }

    package init(encoded text: String) throws(CryptoError) {
        // The base64 key is last and may itself contain '+': split into five fields at most.
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
            let data = Data(base64Encoded: String(parts[4])),
            data.count == 33, data.first == 0x01
        else { throw CryptoError("not a signed-note private key (PRIVATE+KEY+name+id+key)") }
        try self.init(name: String(parts[2]), privateKey: try Ed25519PrivateKey(seed: Array(data.dropFirst())))
        guard verifier.keyIDHex == parts[3] else {
            throw CryptoError("the private key's id does not match its name and key")
        }
    }

    /// Signs `text` (which must end in a newline) as a note: the text, a blank line, one signature line.
    package func sign(_ text: String) throws(CryptoError) -> String {
        guard text.hasSuffix("\n") else { throw CryptoError("note text must end with a newline") }
        let signature = try privateKey.signature(for: Array(text.utf8))
        return text + "\n— \(name) \(Data(verifier.keyID + signature).base64EncodedString())\n"
    }
}

package struct NoteVerifier: Sendable, Hashable {
    package let name: String
    package let publicKey: Ed25519PublicKey

    package init(name: String, publicKey: Ed25519PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+")
            && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    }

    package var keyID: [UInt8] {
        Array(SHA256.hash(Array(name.utf8) + [0x0A, 0x01] + publicKey.rawValue).bytes.prefix(4))
    }
    package var keyIDHex: String { Hex.encode(keyID) }

    /// `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    package var encoded: String { "\(name)+\(keyIDHex)+\(Data([0x01] + publicKey.rawValue).base64EncodedString())" }

    package init(encoded text: String) throws(CryptoError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64Encoded: String(parts[2])), data.count == 33, data.first == 0x01
        else {
            throw CryptoError("not a signed-note verifier key (name+id+base64 key)")
        }
        self.init(name: String(parts[0]), publicKey: Ed25519PublicKey(rawValue: Array(data.dropFirst())))
        guard keyIDHex == parts[1] else { throw CryptoError("the verifier key's id does not match its name and key") }
    }

    /// The note's text when a signature line by this key verifies; nil otherwise.
    /// Trailing newlines a shell or an editor added do not matter (`SignedNote`).
    package func verifiedText(of note: String) -> String? {
        guard let parsed = try? SignedNote(parsing: note) else { return nil }
        return verifies(parsed) ? parsed.text : nil
    }

    /// Whether one of the note's signature lines is this key's valid signature of its text.
    package func verifies(_ note: SignedNote) -> Bool {
        for line in note.signatures {
            guard let (lineName, bytes) = SignedNote.split(line), lineName == name, bytes.count == 68,
                Array(bytes.prefix(4)) == keyID
            else { continue }
            if publicKey.isValidSignature(Array(bytes.dropFirst(4)), for: Array(note.text.utf8)) { return true }
        }
        return false
    }
}
