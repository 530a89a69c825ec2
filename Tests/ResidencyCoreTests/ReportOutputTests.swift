import ResidencyCore
import Testing

/// A streamed report's output: chunks of the chunk size at most, handed over in order, whatever the size of the
/// writes, and never cut inside a UTF-8 character.
@Suite struct ReportOutputTests {
    @Test func longWritesAreCutIntoWholeCharacterChunks() throws {
        let text = String(repeating: "a€𝄞ü,", count: 3_000)  // 1-, 3-, 4- and 2-byte characters
        for chunkSize in [7, 64, 1_000] {
            var chunks: [[UInt8]] = []
            let output = ReportOutput(chunkSize: chunkSize) { chunks.append($0) }
            try output.write(bytes: Array("head ".utf8))
            try output.write(text)
            try output.write(bytes: Array(text.utf8))
            try output.flush()
            #expect(chunks.joined().elementsEqual(Array(("head " + text + text).utf8)))
            #expect(chunks.allSatisfy { $0.count <= chunkSize && !$0.isEmpty })
            #expect(chunks.dropLast().allSatisfy { $0.count > chunkSize - 4 }, "\(chunkSize)")
            for chunk in chunks { #expect(String(validating: chunk, as: UTF8.self) != nil, "\(chunkSize)") }
        }
    }
}
