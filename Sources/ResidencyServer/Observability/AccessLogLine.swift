import ResidencyCore

/// One access-log line: a JSON object of time, request id, method, path, route, status, duration and token name
/// (never the token). Written straight to bytes rather than through a JSONValue tree: it runs for every request.
enum AccessLogLine {
    static func make(
        time: Int64, requestID: String, method: String?, path: String?, route: String, status: Int,
        microseconds: Int, token: String?, error: String? = nil
    ) -> [UInt8] {
        var line = JSONObjectWriter(capacity: 192)
        line.member("time") { output in
            // Straight into the line: the text has nothing to escape, and a String of it was an allocation.
            output.append(UInt8(ascii: "\""))
            Timestamp.append(rfc3339: time, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        line.string("request_id", requestID)
        line.string("method", method)
        line.string("path", path)
        line.string("route", route)
        line.integer("status", status)
        line.member("duration_ms") { output in
            // Milliseconds with three decimals, from whole microseconds.
            let fraction = microseconds % 1000
            output.append(contentsOf: String(microseconds / 1000).utf8)
            output.append(UInt8(ascii: "."))
            output.append(UInt8(48 + fraction / 100))
            output.append(UInt8(48 + fraction / 10 % 10))
            output.append(UInt8(48 + fraction % 10))
        }
        line.string("token", token)
        if let error { line.string("error", error) }
        // Bytes, as the log writer takes them: a String made here was only taken apart again.
        return line.finish()
    }
}
