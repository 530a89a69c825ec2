/// Reads the members of a JSON object straight from its bytes when the object is the plain kind a well-behaved
/// client sends — `{"ip":"81.2.69.160","plan":"trial"}`: string values only, printable ASCII without escapes,
/// no key twice — and gives up (nil) on anything else.
///
/// For the placement route, which answers tens of thousands a second: parsing into a `JSONValue` tree first was
/// a quarter of the route's own time. Giving up is always safe: the caller then reads the body with the full
/// parser and `SignupInput`, which accept or refuse it with their own messages. What this accepts, the full
/// parser reads as the same members (`APIApplicationTests` holds the two readings equal).
enum JSONStringMembers {
    /// Calls `member` with each key and value in order; nil when the body is not such an object or `member`
    /// returns false.
    static func read(
        _ body: [UInt8], maximumMembers: Int, _ member: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) -> Bool
    ) -> Bool? {
        // Keys seen so far, as ranges of `body`, in a buffer on the stack: no array per body.
        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: max(1, maximumMembers)) { keys in
            read(body, keys: keys, maximumMembers: maximumMembers, member)
        }
    }

    private static func read(
        _ body: [UInt8], keys: UnsafeMutableBufferPointer<Range<Int>>, maximumMembers: Int,
        _ member: (_ key: ArraySlice<UInt8>, _ value: ArraySlice<UInt8>) -> Bool
    ) -> Bool? {
        var index = 0
        func skipSpace() {
            while index < body.count,
                body[index] == 0x20 || body[index] == 0x09 || body[index] == 0x0A
                    || body[index] == 0x0D
            {
                index += 1
            }
        }
        /// A string without escapes or control bytes, consumed; nil for anything else.
        func plainString() -> ArraySlice<UInt8>? {
            guard index < body.count, body[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < body.count {
                let byte = body[end]
                if byte == UInt8(ascii: "\"") { break }
                guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
                end += 1
            }
            guard end < body.count else { return nil }
            index = end + 1
            return body[start..<end]
        }
        var keyCount = 0
        skipSpace()
        guard index < body.count, body[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        skipSpace()
        if index < body.count, body[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                guard let key = plainString(), keyCount < maximumMembers,
                    !keys[0..<keyCount].contains(where: { body[$0].elementsEqual(key) })
                else { return nil }
                keys[keyCount] = key.indices
                keyCount += 1
                skipSpace()
                guard index < body.count, body[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                skipSpace()
                guard let value = plainString(), member(key, value) else { return nil }
                skipSpace()
                guard index < body.count else { return nil }
                if body[index] == UInt8(ascii: "}") {
                    index += 1
                    break
                }
                guard body[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
        skipSpace()
        return index == body.count ? true : nil
    }
}
