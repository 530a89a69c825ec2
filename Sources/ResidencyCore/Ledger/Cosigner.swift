import Foundation

/// A C2SP tlog-cosignature (v1, Ed25519) key: a witness's name and public key, and what it signs.
///
/// A cosignature line is `— <name> base64(key ID ‖ u64 timestamp ‖ Ed25519 signature)`, with key ID =
/// SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[0:4], over the message
/// `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's whole note text.
package struct CosignerKey: Sendable, Hashable {
    package let name: String
    package let publicKey: Ed25519PublicKey

    package static let algorithm: UInt8 = 0x04

    package init(name: String, publicKey: Ed25519PublicKey) {
        self.name = name
        self.publicKey = publicKey
    }

    package var keyID: [UInt8] {
        Array(SHA256.hash(Array(name.utf8) + [0x0A, Self.algorithm] + publicKey.rawValue).bytes.prefix(4))
    }

    /// The verifier key, `<name>+<hex key id>+<base64(0x04 ‖ public key)>` (signed-note "vkey").
    package var encoded: String {
        "\(name)+\(Hex.encode(keyID))+\(Data([Self.algorithm] + publicKey.rawValue).base64EncodedString())"
    }

    package init(encoded text: String) throws(CryptoError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, NoteVerifier.isValidName(String(parts[0])),
            let data = Data(base64Encoded: String(parts[2])), data.count == 33
        else {
            throw CryptoError("not a cosigner key: expected name+hexid+base64(0x04 ‖ 32-byte Ed25519 key)")
        }
        guard data.first == Self.algorithm else {
            throw CryptoError(
                "the key \(parts[0]) is of type 0x\(Hex.encode([data.first!])), not an Ed25519 cosignature key (0x04)")
        }
        self.init(name: String(parts[0]), publicKey: Ed25519PublicKey(rawValue: Array(data.dropFirst())))
        guard Hex.encode(keyID) == parts[1] else {
            throw CryptoError("the cosigner key's id does not match its name and key")
        }
    }

    /// What is signed for `checkpointText` (a note's text, ending in a newline) at `timestamp`.
    package static func message(checkpointText: String, timestamp: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(timestamp)\n\(checkpointText)".utf8)
    }

    /// The timestamp of `line` when it is this key's valid cosignature of `checkpointText`; nil otherwise.
    package func verify(_ line: String, checkpointText: String) -> UInt64? {
        guard let (lineName, bytes) = SignedNote.split(line), lineName == name, bytes.count == 4 + 8 + 64,
            Array(bytes.prefix(4)) == keyID
        else { return nil }
        let timestamp = bytes[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard timestamp <= UInt64(Int64.max) else { return nil }
        let signature = Array(bytes[12...])
        return publicKey.isValidSignature(signature, for: Self.message(checkpointText: checkpointText, timestamp: timestamp))
            ? timestamp : nil
    }
}

/// A witness's signing half: makes cosignature lines.
package struct Cosigner: Sendable {
    package let key: CosignerKey
    package let privateKey: Ed25519PrivateKey

    package init(name: String, privateKey: Ed25519PrivateKey) throws(CryptoError) {
        guard NoteVerifier.isValidName(name) else {
            throw CryptoError("cosigner name \"\(name)\" must be non-empty, with no spaces or '+'")
        }
        self.key = CosignerKey(name: name, publicKey: privateKey.publicKey)
        self.privateKey = privateKey
    }

    /// `PRIVATE+KEY+<name>+<hex id>+<base64(0x04 ‖ seed)>`.
    package var encoded: String {
        "PRIVATE+KEY+\(key.name)+\(Hex.encode(key.keyID))+\(Data([CosignerKey.algorithm] + privateKey.seed).base64EncodedString())"
    }

    package init(encoded text: String) throws(CryptoError) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(
            separator: "+", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "PRIVATE", parts[1] == "KEY",
            let data = Data(base64Encoded: String(parts[4])), data.count == 33, data.first == CosignerKey.algorithm
        else { throw CryptoError("not a cosigner private key (PRIVATE+KEY+name+id+base64(0x04 ‖ seed))") }
        try self.init(name: String(parts[2]), privateKey: try Ed25519PrivateKey(seed: Array(data.dropFirst())))
        guard Hex.encode(key.keyID) == parts[3] else {
            throw CryptoError("the private key's id does not match its name and key")
        }
    }

    /// The cosignature line for `checkpointText` at `timestamp` (seconds since the epoch).
    package func cosign(checkpointText: String, timestamp: UInt64) throws(CryptoError) -> String {
        let signature = try privateKey.signature(
            for: CosignerKey.message(checkpointText: checkpointText, timestamp: timestamp))
        var stamp: [UInt8] = []
        for shift in stride(from: 56, through: 0, by: -8) { stamp.append(UInt8(truncatingIfNeeded: timestamp >> UInt64(shift))) }
        return "— \(key.name) \(Data(key.keyID + stamp + signature).base64EncodedString())"
    }
}
