import Testing

@testable import ResidencyServer

/// A streamed answer in the connection's rules, byte by byte with a virtual clock: chunks framed, the next
/// piece asked for only once the socket has taken everything before it, the end, a failure, a stalled reader.
@Suite struct ConnectionMachineStreamingTests {
    static let streamed = HTTPResponse(status: 200, stream: ResponseStream { _ in })

    func streaming(room: Int? = nil) -> VirtualConnection {
        var connection = VirtualConnection { $0.writeTimeout = 5 }
        connection.room = room
        connection.answersInline = { _ in false }
        connection.send(get("/report") + get("/next"))
        connection.answerHandedOut(Self.streamed)
        return connection
    }

    @Test func piecesGoOutAsChunksAndTheConnectionGoesOn() {
        var connection = streaming()
        #expect(connection.startedStreams == 1)
        #expect(connection.machine.awaitsPiece)
        connection.streamPiece("hello ")
        connection.streamPiece("world")
        connection.endStream(succeeded: true)
        #expect(connection.deliveredText.hasPrefix("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
        #expect(connection.deliveredText.contains("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"))
        // The next request, waiting meanwhile, is answered after the last chunk.
        #expect(connection.requests.map(\.target) == ["/report", "/next"])
    }

    @Test func theNextPieceWaitsUntilTheSocketHasTakenTheLast() {
        var connection = streaming(room: 0)
        #expect(!connection.machine.awaitsPiece)  // the head is still unsent
        let pulls = connection.pulls
        connection.peerReads(10_000)
        #expect(connection.machine.awaitsPiece && connection.pulls == pulls + 1)
        connection.room = 0
        connection.streamPiece(String(repeating: "x", count: 100))
        #expect(!connection.machine.awaitsPiece)
        connection.peerReads(50)
        #expect(!connection.machine.awaitsPiece)  // part of the chunk is still unsent
        connection.peerReads(100)
        #expect(connection.machine.awaitsPiece)
    }

    @Test func aFailedProducerCutsTheConnection() {
        var connection = streaming()
        connection.streamPiece("part")
        connection.endStream(succeeded: false)
        #expect(connection.isClosed)
        #expect(!connection.deliveredText.contains("0\r\n\r\n"))
    }

    @Test func aReaderThatTakesNothingIsCutOffAtTheWriteTimeout() {
        var connection = streaming(room: 0)
        connection.advance(by: 4)
        #expect(!connection.isClosed)
        connection.advance(by: 2)
        #expect(connection.isClosed)
    }
}
