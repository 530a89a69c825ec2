import Foundation

/// Where the store's SQL differs between SQLite and PostgreSQL, in one place.
///
/// The repositories are written once, in SQLite's spelling (the embedded default, whose statements run as
/// written). A statement prepared on PostgreSQL is first rewritten here: placeholders (`?`, `?N` → `$N`), the few
/// SQLite idioms the store uses (`INSERT OR IGNORE`, `INSERT OR ROLLBACK`, `INDEXED BY`, `last_insert_rowid()`, `json_extract` over a
/// blob or text holding JSON, `json_each` over a JSON array parameter). Anything else is the same in both. The
/// rewrite is by rule, never by guess: a statement using an idiom not listed here fails on PostgreSQL's parser,
/// and the store's tests run every repository on both backends.
enum PostgresDialect {
    /// bytea's type OID.
    static let byteaType: UInt32 = 17

    /// The ledger's time expression (schema version 7), which SQLite reads as an integer; PostgreSQL's JSON
    /// operators answer text, so it is cast (and the PostgreSQL index is on the same cast expression).
    static let rules: [(pattern: String, template: String)] = [
        (#"json_extract\(CAST\(entry AS TEXT\), '\$\.time'\)"#, "((residency_json(entry) ->> 'time')::bigint)"),
        (#"json_extract\(CAST\(([A-Za-z_.]+) AS TEXT\), '\$\.([A-Za-z_.]+)'\)"#, "(residency_json($1) #>> '{$2}')"),
        (#"json_extract\(([A-Za-z_.]+), '\$\.([A-Za-z_.]+)'\)"#, "($1::jsonb #>> '{$2}')"),
        (#"json_each\((\?[0-9]*)\)"#, "jsonb_array_elements_text(CAST($1 AS jsonb))"),
        (#"INDEXED BY [A-Za-z_]+\s*"#, ""),
        (#"last_insert_rowid\(\)"#, "lastval()"),
        // An optional filter, `(?1 IS NULL OR column = ?1)`: PostgreSQL types a parameter where it first meets it,
        // and `IS NULL` says nothing. The store's optional filters are all text.
        (#"\((\?[0-9]+) IS NULL OR"#, "(CAST($1 AS text) IS NULL OR"),
    ]

    private static let compiled: [(NSRegularExpression, String)] = rules.map {
        (try! NSRegularExpression(pattern: $0.pattern), $0.template)
    }

    /// `sql` in PostgreSQL's spelling.
    static func translate(_ sql: String) -> String {
        var text = sql
        for (expression, template) in compiled {
            let range = NSRange(text.startIndex..., in: text)
            text = expression.stringByReplacingMatches(in: text, range: range, withTemplate: template)
        }
        // JSON paths: '$.a.b' became '{a.b}' above; PostgreSQL's path arrays separate keys with commas.
        text = text.replacingOccurrences(
            of: #"#>> '\{([A-Za-z_]+)\.([A-Za-z_]+)\}'"#, with: "#>> '{$1,$2}'", options: .regularExpression)
        // A failed statement aborts PostgreSQL's whole transaction whatever the clause: ROLLBACK is its only way.
        if let range = text.range(of: "INSERT OR ROLLBACK INTO ") {
            text.replaceSubrange(range, with: "INSERT INTO ")
        }
        if let range = text.range(of: "INSERT OR IGNORE INTO ") {
            text.replaceSubrange(range, with: "INSERT INTO ")
            text = text.trimmingCharacters(in: .whitespacesAndNewlines) + " ON CONFLICT DO NOTHING"
        }
        return numberingPlaceholders(text)
    }

    /// `?` and `?N` outside string literals and quoted names become `$N`; a bare `?` takes the next number after
    /// the largest so far, as SQLite numbers it.
    static func numberingPlaceholders(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count + 16)
        var largest = 0
        var quote: Character?
        var characters = sql.makeIterator()
        var pending: Character? = characters.next()
        while let character = pending {
            pending = characters.next()
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                output.append(character)
                continue
            }
            guard character == "?" else {
                output.append(character)
                continue
            }
            var digits = ""
            while let next = pending, next.isASCII, next.isNumber {
                digits.append(next)
                pending = characters.next()
            }
            let number = Int(digits) ?? largest + 1
            largest = max(largest, number)
            output += "$\(number)"
        }
        return output
    }

    /// PostgreSQL's text form of a bytea (`\x` then two hex digits a byte) as bytes.
    static func decodeHex(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return Array(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index + 1 < text.count {
            bytes.append(nibble(text[index]) << 4 | nibble(text[index + 1]))
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return 0
        }
    }

    /// A 64-bit key for `pg_advisory_xact_lock` from the store's schema name, so stores in different schemas of
    /// one database (the tests' throwaway schemas) do not serialise one another. FNV-1a.
    static func lockKey(schema: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "residency.write:\(schema)".utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
