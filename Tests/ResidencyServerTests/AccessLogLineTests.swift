import Foundation
import Testing

@testable import ResidencyCore
@testable import ResidencyServer

/// Access-log lines are written into a raw buffer with each key's punctuation as one piece of fixed text; these
/// hold them equal, byte for byte, to the member-by-member writer they replace (the tree's bytes) over hostile
/// text and edge numbers, and parseable as the JSON object they claim to be.
@Suite struct AccessLogLineTests {
    /// The line as it was written before: `JSONObjectWriter` member by member.
    static func reference(
        time: Int64, requestID: String, method: String?, path: String?, route: String, status: Int,
        microseconds: Int, token: String?, error: String?
    ) -> [UInt8] {
        var line = JSONObjectWriter(capacity: 192)
        line.member("time") { output in
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
            let fraction = microseconds % 1000
            output.append(contentsOf: String(microseconds / 1000).utf8)
            output.append(UInt8(ascii: "."))
            output.append(UInt8(48 + fraction / 100))
            output.append(UInt8(48 + fraction / 10 % 10))
            output.append(UInt8(48 + fraction % 10))
        }
        line.string("token", token)
        if let error { line.string("error", error) }
        return line.finish()
    }

    @Test func linesEqualTheMemberByMemberWriterOverHostileText() throws {
        let texts: [String?] = [
            nil, "", "/v1/placements", "/v1/tenants/tn_0193?x=\"quoted\"&y=\\back\\", "\u{0}\u{1}\u{1F}\u{7F}",
            "line\nbreak\r\ttab", "é 漢 \u{1F600} </script>", String(repeating: "\"\\", count: 200),
            String(repeating: "abcdefgh", count: 64),
        ]
        let times: [Int64] = [0, 1, 999, 1_733_220_000_123, 253_402_300_799_999, 253_402_300_800_000, -1]
        let durations = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 123_456_789]
        var compared = 0
        for method in texts {
            for path in texts {
                for token in [nil, "bench", "t\"ok\\en"] {
                    for error in [nil, "bad \"request\"\n"] {
                        let time = times[compared % times.count]
                        let microseconds = durations[compared / 3 % durations.count]
                        let status = [200, 401, 404, 500, 999][compared / 7 % 5]
                        let route = path ?? "rejected"
                        let line = AccessLogLine.make(
                            time: time, requestID: "0123456789abcdef", method: method, path: path, route: route,
                            status: status, microseconds: microseconds, token: token, error: error)
                        #expect(
                            line
                                == Self.reference(
                                    time: time, requestID: "0123456789abcdef", method: method, path: path, route: route,
                                    status: status, microseconds: microseconds, token: token, error: error),
                            "\(String(decoding: line, as: UTF8.self))")
                        let parsed = try JSONParser.parse(line)
                        guard case .object(let members) = parsed else {
                            Issue.record("not an object")
                            continue
                        }
                        let keys: [String] = members.map { $0.key }
                        let expectedKeys = ["time", "request_id", "method", "path", "route", "status", "duration_ms", "token"]
                        #expect(keys == expectedKeys + (error == nil ? [] : ["error"]))
                        let pathValue: JSONValue? = members.first { $0.key == "path" }?.value
                        let expectedPath: JSONValue = path.map { JSONValue.string($0) } ?? JSONValue.null
                        #expect(pathValue == expectedPath)
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 9 * 9 * 3 * 2)
    }
}
