// HTTP's protocol fields are ASCII: these helpers trim and compare them without Foundation (whose
// `trimmingCharacters` bridges through NSString — measured at 4 % of a request) and without generic code
// across module boundaries (an unspecialised generic `zip` here once cost 11 % of a placement).

extension Substring {
    /// The text without leading and trailing spaces and tabs (HTTP's optional whitespace).
    package var trimmingSpacesAndTabs: Substring {
        let utf8 = self.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while end > start {
            let last = utf8.index(before: end)
            guard utf8[last] == 0x20 || utf8[last] == 0x09 else { break }
            end = last
        }
        return self[start..<end]
    }

    /// Whether the text equals `lowercased` (lower-case ASCII) ignoring ASCII case.
    package func equalsIgnoringASCIICase(_ lowercased: String) -> Bool {
        let mine = self.utf8
        let theirs = lowercased.utf8
        guard mine.count == theirs.count else { return false }
        var index = mine.startIndex
        for expected in theirs {
            let byte = mine[index]
            if ((0x41...0x5A).contains(byte) ? byte | 0x20 : byte) != expected { return false }
            index = mine.index(after: index)
        }
        return true
    }
}

extension String {
    package var trimmingSpacesAndTabs: Substring { self[...].trimmingSpacesAndTabs }

    package func equalsIgnoringASCIICase(_ lowercased: String) -> Bool {
        self[...].equalsIgnoringASCIICase(lowercased)
    }
}
