import Foundation

/// Who must cosign a checkpoint before it is published, and how many of them: `witnesses.json` in the data
/// directory (the controller), or the witness half of a trust file (`ledger verify --trust`).
///
/// ```json
/// {"quorum": 2, "witnesses": [{"key": "w1.example+1a2b3c4d+BASE64", "url": "http://127.0.0.1:7401"}, …]}
/// ```
/// A witness is named by its key (the name is the key's first field); `url` is where the controller asks it
/// for cosignatures (optional in a trust file, where it lets `ledger verify` ask each witness what it has seen).
package struct WitnessPolicy: Sendable, Hashable {
    package struct Witness: Sendable, Hashable {
        package let key: CosignerKey
        package let url: String?
        package var name: String { key.name }

        package init(key: CosignerKey, url: String?) {
            self.key = key
            self.url = url
        }
    }

    package let witnesses: [Witness]
    package let quorum: Int

    package init(witnesses: [Witness], quorum: Int) {
        self.witnesses = witnesses
        self.quorum = quorum
    }

    /// The URL scheme of a regional service's witness: `region:eu` is asked through the controller's mutual TLS
    /// with the eu service.
    package static let regionalScheme = "region:"

    static func isRegional(_ url: String) -> Bool {
        guard url.hasPrefix(regionalScheme) else { return false }
        let region = url.dropFirst(regionalScheme.count)
        return !region.isEmpty && region.utf8.count <= 64
            && region.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 }
    }

    /// No witnesses: a signed checkpoint is published as it is.
    package static let none = WitnessPolicy(witnesses: [], quorum: 0)

    /// Reads the witness members of a JSON object (`witnesses`, `quorum`), reporting every problem.
    static func read(_ object: JSONObjectReader, requireURLs: Bool) -> WitnessPolicy? {
        var witnesses: [Witness] = []
        var valid = true
        if let list = object.required("witnesses")?.array() {
            for element in list {
                guard let member = element.object(known: ["key", "url"]) else { valid = false; continue }
                let keyText = member.required("key")?.string()
                let url = requireURLs ? member.required("url")?.string() : member.optional("url")?.string()
                if let url,
                    !(url.hasPrefix("http://") || url.hasPrefix("https://") || Self.isRegional(url)) || url.utf8.count > 2048
                {
                    element.note(
                        "url \"\(url.prefix(80))\": accepted: an http:// or https:// URL, or region:ID for a regional service's witness")
                    valid = false
                }
                guard let keyText else { valid = false; continue }
                do {
                    let key = try CosignerKey(encoded: keyText)
                    if witnesses.contains(where: { $0.name == key.name }) {
                        element.note("witness \(key.name) is listed twice")
                        valid = false
                    }
                    witnesses.append(Witness(key: key, url: url))
                } catch {
                    element.note("key: \(error)")
                    valid = false
                }
            }
        } else {
            valid = false
        }
        let quorum = object.required("quorum")?.integer(in: 0...1000).map(Int.init)
        if let quorum, quorum > witnesses.count {
            object.reader.note("quorum \(quorum) is more than the \(witnesses.count) witnesses listed")
            valid = false
        }
        if let quorum, quorum == 0, !witnesses.isEmpty {
            object.reader.note("quorum 0 with witnesses listed would publish without any; accepted: 1-\(witnesses.count)")
            valid = false
        }
        guard valid, let quorum else { return nil }
        return WitnessPolicy(witnesses: witnesses, quorum: quorum)
    }

    /// Loads `witnesses.json`; every witness needs a URL (the controller asks each one).
    package static func load(file url: URL) throws -> WitnessPolicy {
        let collector = ProblemCollector()
        let name = url.lastPathComponent
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(file: url.path, path: "$", message: "cannot read the file")
            ])
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(data))
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(file: name, path: "$", message: "\(error)")])
        }
        let reader = JSONReader(value: value, file: name, collector: collector)
        let policy = reader.object(known: ["witnesses", "quorum"]).flatMap { read($0, requireURLs: true) }
        try collector.throwIfAny()
        guard let policy else {
            throw ConfigurationError(problems: [ConfigurationProblem(file: name, path: "$", message: "invalid")])
        }
        return policy
    }

    /// The cosignatures of `note` by distinct trusted witnesses: witness names whose line verifies.
    package func cosigners(of note: SignedNote) -> [String] {
        var names: [String] = []
        for witness in witnesses {
            if note.signatures.contains(where: { witness.key.verify($0, checkpointText: note.text) != nil }) {
                names.append(witness.name)
            }
        }
        return names
    }
}

/// What an auditor pins to verify the ledger without trusting its operator: the log's key and the witness
/// policy. `residency ledger trust` prints the running controller's; `ledger verify --trust FILE` reads it.
///
/// ```json
/// {"log": "residency.local/ledger+…+…", "quorum": 2, "witnesses": [{"key": "…", "url": "…"}]}
/// ```
package struct TrustPolicy: Sendable, Hashable {
    package let log: NoteVerifier
    package let witnesses: WitnessPolicy

    package init(log: NoteVerifier, witnesses: WitnessPolicy) {
        self.log = log
        self.witnesses = witnesses
    }

    package static func load(file url: URL) throws -> TrustPolicy {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(file: url.path, path: "$", message: "cannot read the trust file")
            ])
        }
        return try parse(Array(data), file: url.lastPathComponent)
    }

    package static func parse(_ bytes: [UInt8], file: String) throws -> TrustPolicy {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(file: file, path: "$", message: "\(error)")])
        }
        let collector = ProblemCollector()
        let reader = JSONReader(value: value, file: file, collector: collector)
        var log: NoteVerifier?
        var witnesses: WitnessPolicy?
        if let object = reader.object(known: ["log", "witnesses", "quorum"]) {
            if let text = object.required("log")?.string() {
                do { log = try NoteVerifier(encoded: text) } catch {
                    object.reader.note("log: \(error)")
                }
            }
            witnesses = WitnessPolicy.read(object, requireURLs: false)
        }
        try collector.throwIfAny()
        guard let log, let witnesses else {
            throw ConfigurationError(problems: [ConfigurationProblem(file: file, path: "$", message: "invalid")])
        }
        return TrustPolicy(log: log, witnesses: witnesses)
    }

    package var jsonValue: JSONValue {
        .object([
            ("log", .string(log.encoded)), ("quorum", .integer(witnesses.quorum)),
            (
                "witnesses",
                .array(
                    witnesses.witnesses.map {
                        .object([("key", .string($0.key.encoded))] + ($0.url.map { [("url", JSONValue.string($0))] } ?? []))
                    })
            ),
        ])
    }
}
