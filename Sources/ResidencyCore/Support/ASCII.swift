extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's optional whitespace). Protocol fields are
    /// ASCII, and Foundation's `trimmingCharacters` bridges through NSString — measured at 4 % of a request.
    public var trimmingSpacesAndTabs: Substring {
        let whole = Substring(self)
        let utf8 = whole.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while end > start {
            let last = utf8.index(before: end)
            guard utf8[last] == 0x20 || utf8[last] == 0x09 else { break }
            end = last
        }
        return whole[start..<end]
    }

    /// Whether the text equals `other` ignoring ASCII case (`other` lower-case).
    public func equalsIgnoringASCIICase(_ lowercased: String) -> Bool {
        var mine = self.utf8.makeIterator()
        var theirs = lowercased.utf8.makeIterator()
        while true {
            switch (mine.next(), theirs.next()) {
            case (nil, nil): return true
            case (let a?, let b?):
                let folded = (0x41...0x5A).contains(a) ? a | 0x20 : a
                if folded != b { return false }
            default: return false
            }
        }
    }
}
