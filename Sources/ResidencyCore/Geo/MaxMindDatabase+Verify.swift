extension MaxMindDatabase {
    /// Checks the whole file, as `mmdbverify` does: every record of every node points to a node, to "no
    /// data", or into the data section, and every data record reached decodes. Lookups are safe without
    /// this; it exists to refuse a corrupt file up front rather than on the first unlucky lookup.
    package func verify() throws(MaxMindError) {
        let nodeCount = metadata.nodeCount
        var decoded = Set<Int>()
        for node in 0..<nodeCount {
            let (left, right) = records(of: node)
            for record in [left, right] where record > nodeCount {
                let offset = Int(record) - Int(nodeCount) - 16
                guard offset >= 0, offset < data.count else {
                    throw MaxMindError.invalidSearchTree("node \(node) has record \(record) outside the data section")
                }
                if decoded.insert(offset).inserted { _ = try data.decode(at: offset) }
            }
        }
    }
}
