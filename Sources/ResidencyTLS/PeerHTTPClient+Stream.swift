import Foundation

extension PeerHTTPClient {
    /// One request whose answer's body may be far larger than memory (a migration's snapshot): each piece of a
    /// 200 answer's body goes to `sink` as it arrives, and nothing of it is held beyond one read.
    ///
    /// The request is HTTP/1.0, so the server sends the body as it is, ended by its close, with no chunk framing
    /// to parse or copy: the caller knows the body's `length`, and fewer bytes before the close is a cut answer
    /// (thrown), never taken for a whole one. Any other status is answered whole (at most `limit` bytes) for the
    /// caller to report; nil means the whole body reached `sink`.
    package func stream(
        _ method: String, _ path: String, body: [UInt8], length: Int64,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Response? {
        let client: TLSClient
        do {
            client = try TLSClient(host: host, port: port, context: context, timeout: timeout)
        } catch {
            throw Failure("\(endpoint): \(error)")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let head =
            "\(method) \(path) HTTP/1.0\r\nHost: \(shownHost):\(port)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        var answerHead: [UInt8] = []
        var status: Int?
        var refusal: [UInt8] = []
        var delivered: Int64 = 0
        let complete: Bool
        do {
            try client.send(Array(head.utf8) + body)
            complete = try client.stream { piece in
                var rest = piece
                if status == nil {
                    answerHead.append(contentsOf: piece)
                    guard let end = Self.headEnd(answerHead) else {
                        guard answerHead.count <= 64 * 1024 else {
                            throw Failure("\(endpoint) sent an answer head over 64 KiB")
                        }
                        return false
                    }
                    let line = String(decoding: answerHead[..<end], as: UTF8.self).split(separator: "\r\n").first ?? ""
                    let parts = line.split(separator: " ")
                    guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
                        throw Failure("\(endpoint) answered a malformed status line")
                    }
                    status = code
                    // The head was incomplete before this piece, so it ends inside it.
                    let bodyStart = end + 4 - (answerHead.count - piece.count)
                    rest = UnsafeRawBufferPointer(rebasing: piece[bodyStart...])
                }
                if status != 200 {
                    refusal.append(contentsOf: rest)
                    guard refusal.count <= limit else { throw Failure("\(endpoint)'s answer exceeds \(limit) bytes") }
                    return false
                }
                guard delivered + Int64(rest.count) <= length else {
                    throw Failure("\(endpoint) sent more than the \(length) bytes expected")
                }
                if !rest.isEmpty { try sink(rest) }
                delivered += Int64(rest.count)
                return delivered == length
            }
        } catch let failure as Failure {
            throw failure
        } catch let failure as TLSClient.Failure {
            throw Failure("\(endpoint): \(failure)")
        }
        guard let status else { throw Failure("\(endpoint) closed without an answer") }
        guard status == 200 else {
            let text = String(decoding: answerHead, as: UTF8.self)
            let headers =
                text.split(separator: "\r\n\r\n", maxSplits: 1).first?.split(separator: "\r\n").dropFirst()
                .compactMap { line -> (name: String, value: String)? in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
                } ?? []
            return Response(status: status, headers: headers, body: refusal)
        }
        guard complete, delivered == length else {
            throw Failure("\(endpoint) closed after \(delivered) of the \(length) bytes of the answer")
        }
        return nil
    }
}
