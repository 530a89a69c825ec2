import ResidencyCore

/// One access-log line: a JSON object of time, request id, method, path, route, status, duration and token name
/// (never the token). Written straight to bytes rather than through a JSONValue tree: it runs for every request.
enum AccessLogLine {
    static func make(
        time: Int64, requestID: String, method: String?, path: String?, route: String, status: Int,
        microseconds: Int, token: String?, error: String? = nil
    ) -> [UInt8] {
        var line = ByteWriter(capacity: 256)
        write(
            time: time, requestID: requestID, method: method, path: path, route: route, status: status,
            microseconds: microseconds, token: token, error: error, into: &line)
        return line.bytes
    }

    /// The line written into `line` (after what it holds): the log writer copies it from there, with no array
    /// made for it in between.
    static func write(
        time: Int64, requestID: String, method: String?, path: String?, route: String, status: Int,
        microseconds: Int, token: String?, error: String? = nil, into line: inout ByteWriter
    ) {
        // Into a raw buffer, each key with its punctuation as one piece of fixed text (see `ByteWriter`): the
        // members in the order, and with the bytes, of the JSONValue object they replace (`AccessLogLineTests`).
        // The time straight into the line: the text has nothing to escape, and a String of it was an allocation.
        line.append(#"{"time":""#)
        Timestamp.append(rfc3339: time, to: &line)
        line.append(#"","request_id":"#)
        line.appendJSONString(requestID)
        line.append(#","method":"#)
        line.appendJSONString(method)
        line.append(#","path":"#)
        line.appendJSONString(path)
        line.append(#","route":"#)
        line.appendJSONString(route)
        line.append(#","status":"#)
        line.appendDecimal(status)
        // Milliseconds with three decimals, from whole microseconds.
        line.append(#","duration_ms":"#)
        let fraction = microseconds % 1000
        line.appendDecimal(microseconds / 1000)
        line.append(UInt8(ascii: "."))
        line.append(UInt8(48 + fraction / 100))
        line.append(UInt8(48 + fraction / 10 % 10))
        line.append(UInt8(48 + fraction % 10))
        line.append(#","token":"#)
        line.appendJSONString(token)
        if let error {
            line.append(#","error":"#)
            line.appendJSONString(error)
        }
        line.append(UInt8(ascii: "}"))
    }
}
