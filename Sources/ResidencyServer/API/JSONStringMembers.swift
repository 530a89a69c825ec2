import ResidencyCore

/// Reads the members of a JSON object straight from its bytes when the object is the plain kind a well-behaved
/// client sends — `{"ip":"81.2.69.160","plan":"trial"}`: string values only, printable ASCII without escapes,
/// no key twice — and gives up (nil) on anything else.
///
/// For the placement route, which answers tens of thousands a second: parsing into a `JSONValue` tree first was
/// a quarter of the route's own time. Giving up is always safe: the caller then reads the body with the full
/// parser and `SignupInput`, which accept or refuse it with their own messages. What this accepts, the full
/// parser reads as the same members (`APIApplicationTests` holds the two readings equal).
///
/// The walk over the object is `JSONObjectScanner`'s, the one member scanner; this adds the checks that make
/// a member plain, and that nothing but whitespace follows the object.
enum JSONStringMembers {
    /// Stops the scan at the first member that is not plain (or that `member` refuses).
    private struct NotPlain: Error {}

    /// Calls `member` with each key and value (the string's contents, without quotes) in order; nil when the
    /// body is not such an object or `member` returns false.
    static func read(
        _ body: [UInt8], maximumMembers: Int,
        _ member: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool
    ) -> Bool? {
        body.withUnsafeBytes { bytes in
            // Keys seen so far, in a buffer on the stack: no array per body.
            withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: max(1, maximumMembers)) { keys in
                var keyCount = 0
                let end: Int
                do {
                    end = try JSONObjectScanner.forEachMember(of: bytes) { key, value in
                        guard keyCount < maximumMembers, JSONRawValue.isPlainASCII(key), value.isPlainASCIIString,
                            !keys[0..<keyCount].contains(where: { $0.elementsEqual(key) })
                        else { throw NotPlain() }
                        keys[keyCount] = key
                        keyCount += 1
                        guard member(key, UnsafeRawBufferPointer(rebasing: value.bytes.dropFirst().dropLast())) else {
                            throw NotPlain()
                        }
                    }
                } catch {
                    return nil
                }
                for byte in bytes[end...] where byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
                    return nil
                }
                return true
            }
        }
    }
}
