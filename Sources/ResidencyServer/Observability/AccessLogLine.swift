import ResidencyCore

/// One access-log line: a JSON object of time, request id, method, path, route, status, duration and token name
/// (never the token). Written straight to bytes rather than through a JSONValue tree: it runs for every request.
enum AccessLogLine {
    static func make(
        time: Int64, requestID: String, method: String?, path: String?, route: String, status: Int,
        microseconds: Int, token: String?, error: String? = nil
    ) -> String {
        var line: [UInt8] = []
        line.reserveCapacity(192)
        func key(_ name: StaticString, first: Bool = false) {
            if !first { line.append(UInt8(ascii: ",")) }
            line.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { line.append(contentsOf: $0) }
            line.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func string(_ value: String?) {
            if let value { JSONValue.writeString(value, into: &line) } else { line.append(contentsOf: "null".utf8) }
        }
        line.append(UInt8(ascii: "{"))
        key("time", first: true)
        string(Timestamp.rfc3339(milliseconds: time))
        key("request_id")
        string(requestID)
        key("method")
        string(method)
        key("path")
        string(path)
        key("route")
        string(route)
        key("status")
        line.append(contentsOf: String(status).utf8)
        key("duration_ms")
        // Milliseconds with three decimals, from whole microseconds.
        let fraction = microseconds % 1000
        line.append(contentsOf: String(microseconds / 1000).utf8)
        line.append(UInt8(ascii: "."))
        line.append(UInt8(48 + fraction / 100))
        line.append(UInt8(48 + fraction / 10 % 10))
        line.append(UInt8(48 + fraction % 10))
        key("token")
        string(token)
        if let error {
            key("error")
            string(error)
        }
        line.append(UInt8(ascii: "}"))
        return String(decoding: line, as: UTF8.self)
    }
}
