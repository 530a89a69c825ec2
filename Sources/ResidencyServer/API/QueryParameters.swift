import ResidencyCore

/// The checks every listing route makes of its query string, written once.
extension HTTPRequest {
    /// Refuses any parameter not in `accepted` (400 naming it and what is accepted).
    func acceptQuery(_ accepted: [String]) throws(APIError) {
        for (name, _) in query where !accepted.contains(name) {
            throw APIError.badRequest(
                "unknown query parameter \"\(name)\"; accepted: \(accepted.joined(separator: ", "))",
                code: "invalid_query")
        }
    }

    /// An RFC 3339 time parameter, in milliseconds since the Unix epoch; nil when absent.
    func timeQuery(_ name: String) throws(APIError) -> Int64? {
        guard let text = queryValue(name) else { return nil }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: text) else {
            throw APIError.badRequest("\(name): \"\(text)\" is not an RFC 3339 time", code: "invalid_query")
        }
        return milliseconds
    }

    /// `limit`, when given, as an integer in `range`; otherwise `fallback`.
    func limitQuery(default fallback: Int, range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = queryValue("limit") else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest(
                "limit: \"\(text)\"; accepted: an integer \(range.lowerBound)-\(range.upperBound)",
                code: "invalid_query")
        }
        return value
    }
}
