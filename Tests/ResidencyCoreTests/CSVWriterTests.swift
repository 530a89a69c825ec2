import Testing

@testable import ResidencyCore

/// A report cell that a spreadsheet could run as a formula is written with a leading `'`, however it is
/// dressed: blanks, tabs, line breaks, invisible characters or full-width signs before the `=`.
@Suite struct CSVWriterTests {
    static let starts = ["=", "+", "-", "@", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}"]
    static let blanks = [
        "", " ", "  ", "\t", "\r", "\n", " \t ", "\u{00A0}", "\u{3000}", "\u{2003}", "\u{200B}", "\u{FEFF}",
        "\u{0000}", "\u{001F}", " \u{200B}\t",
    ]

    @Test(arguments: starts)
    func everyDressingOfAFormulaIsPrefixed(start: String) {
        for blank in Self.blanks {
            let cell = blank + start + "HYPERLINK(\"http://x\")"
            #expect(CSVWriter.mayBeReadAsFormula(cell), "\(Array(cell.unicodeScalars))")
            let written = CSVWriter.field(cell)
            // Quoted or not, the first character a spreadsheet reads is the apostrophe.
            #expect(written.hasPrefix("'") || written.hasPrefix("\"'"), "\(written.debugDescription)")
        }
    }

    @Test func ordinaryCellsAreLeftAlone() {
        for cell in ["acme", "-5", "+7", "42", "", " ", "a=b", "user@example.com", "tn_01", "2026-12-02T00:00:00Z"] {
            #expect(!CSVWriter.mayBeReadAsFormula(cell), "\(cell)")
            #expect(!CSVWriter.field(cell).hasPrefix("'"), "\(cell)")
        }
    }

    @Test func quotingStillFollowsRFC4180() {
        #expect(CSVWriter.field("a,b") == "\"a,b\"")
        #expect(CSVWriter.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.field(" =1+1") == "' =1+1")
        #expect(CSVWriter.field("\n=1") == "\"'\n=1\"")
    }
}

@Suite struct HTMLFigureTests {
    @Test(arguments: [
        (0, "0"), (999, "999"), (1_000, "1,000"), (27_345, "27,345"), (1_234_567, "1,234,567"), (-4_500, "-4,500"),
    ])
    func figuresHaveThousandsSeparators(_ value: Int, _ expected: String) {
        #expect(HTMLReport.grouped(value) == expected)
    }
}
