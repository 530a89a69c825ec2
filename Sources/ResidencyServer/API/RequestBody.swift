import ResidencyCore

/// Reads a JSON request body strictly: malformed JSON, a non-object, unknown fields and wrong types are
/// all 400s naming the field and what is accepted.
struct RequestBody {
    let object: JSONObjectReader
    let collector: ProblemCollector
    let value: JSONValue

    /// SHA-256 of the body's canonical form: the same request written differently hashes the same. Computed
    /// on demand: only idempotent signups need it.
    var canonicalHash: [UInt8] {
        ((try? value.canonicalBytes(allowsFractions: true)).map { SHA256.hash($0).bytes }) ?? []
    }

    init(_ request: HTTPRequest, fields: [String]) throws(APIError) {
        let contentType = request.header("content-type") ?? ""
        guard request.hasMediaType("application/json") else {
            throw APIError(
                status: 415, code: "unsupported_media_type",
                message: "send the body as Content-Type: application/json"
                    + (contentType.isEmpty ? "" : " (got \"\(contentType)\")"))
        }
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw APIError.badRequest("request body: \(error.description)", code: "malformed_json")
        }
        collector = ProblemCollector()
        let reader = JSONReader(value: value, file: "body", collector: collector)
        guard let object = reader.object(known: fields) else { throw Self.failure(collector) }
        self.object = object
    }

    /// Throws every problem collected so far.
    func check() throws(APIError) {
        if !collector.problems.isEmpty { throw Self.failure(collector) }
    }

    static func failure(_ collector: ProblemCollector) -> APIError {
        let message = collector.problems.map { "\($0.path): \($0.message)" }.joined(separator: "; ")
        return APIError.badRequest(message, code: "invalid_field")
    }
}
