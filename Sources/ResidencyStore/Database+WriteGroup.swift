import CSQLite

extension Database {
    /// Runs `bodies` in one `BEGIN IMMEDIATE … COMMIT`: writes made durable together, by one commit (one fsync
    /// with `synchronous = FULL`). Answers one outcome per body, in order: nil when its changes committed, else
    /// its error. No body takes another down, and none leaves part of its changes behind:
    ///
    /// - A body that throws before changing anything (a refusal or a conflict found by its reads, the usual
    ///   failures) is answered its error; the others go on in the same transaction.
    /// - A body that throws after changing rows — or after SQLite rolled the whole transaction back (a full
    ///   disk, an I/O error, ON CONFLICT ROLLBACK) — is answered its error and the transaction is rolled back
    ///   (with every body's `onRollback` actions); the other bodies then run again in a new transaction, each
    ///   in a savepoint of its own, so that a second such body is rolled back alone (`writeIsolated`). The
    ///   bodies before it see the same state as the first time, so every outcome is what it would have been in
    ///   a group of savepoints from the start.
    /// - If `BEGIN` or `COMMIT` fails, every body whose changes the transaction held is answered that error.
    ///
    /// Why not a savepoint around every body from the start: a savepoint makes SQLite copy each page its body
    /// changes into the statement journal, to roll back to. A signup changes about fifteen pages (its tenant row
    /// and five indexes, its ledger entry and four, Merkle nodes); past 64 KiB (SQLite's limit, which must not
    /// be raised on 3.40: see `GroupCommitTests.aLargeRewriteInAGroupCommits`) the journal spills to a temporary
    /// file with two writes per page — about 30 system calls per signup in a group of 64, most of the group's
    /// time. So bodies may run twice; `DatabasePool.write` says what that asks of them.
    ///
    /// On PostgreSQL a statement error aborts the whole transaction, which only a savepoint can contain: every
    /// body there runs in a savepoint (a round trip, no page copies).
    ///
    /// `more` is asked for further bodies once those given have run, before COMMIT (SQLite only), until it answers
    /// none: writes that arrived while the group ran join its commit rather than wait for the next one. Answers one
    /// outcome per body given and then per body `more` answered, in that order.
    package func writeGroup(
        _ bodies: [() throws -> Void], more: () -> [() throws -> Void] = { [] }
    ) -> [(any Error)?] {
        precondition(transactionDepth == 0, "a group of writes is a transaction of its own")
        var bodies = bodies
        var outcomes = [(any Error)?](repeating: nil, count: bodies.count)
        if isPostgres {
            writeIsolated(bodies, Array(bodies.indices), into: &outcomes)
            return outcomes
        }
        if let failed = writeTogether(&bodies, more: more, into: &outcomes) {
            writeIsolated(bodies, bodies.indices.filter { $0 != failed }, into: &outcomes)
        }
        return outcomes
    }

    /// Runs every body in one transaction without savepoints. Answers nil when done (committed, or failed as a
    /// whole); else the index of a body that threw after changing rows: everything was rolled back and only that
    /// body's outcome is set.
    private func writeTogether(
        _ bodies: inout [() throws -> Void], more: () -> [() throws -> Void], into outcomes: inout [(any Error)?]
    ) -> Int? {
        do {
            try begin(.write)
        } catch {
            for index in bodies.indices { outcomes[index] = error }
            return nil
        }
        transactionDepth = 1
        defer { transactionDepth = 0 }
        // DDL changes no rows: a body that created a table and then threw is caught by the schema cookie.
        let schema = try? schemaCookie()
        var members: [Int] = []
        var index = 0
        while true {
            if index == bodies.count {
                let arrived = more()
                if arrived.isEmpty { break }
                bodies += arrived
                outcomes += [(any Error)?](repeating: nil, count: arrived.count)
            }
            defer { index += 1 }
            let mark = rollbackActions.count
            let changes = sqlite3_total_changes64(connection)
            do {
                try bodies[index]()
                members.append(index)
            } catch {
                outcomes[index] = error
                if isTransactionOpen, sqlite3_total_changes64(connection) == changes, schema != nil,
                    (try? schemaCookie()) == schema
                {
                    // Nothing of this body is in the transaction: only its in-memory changes to undo.
                    undo(downTo: mark)
                    continue
                }
                try? control("ROLLBACK")
                undo(downTo: 0)
                return index
            }
        }
        guard !members.isEmpty else {
            try? control("ROLLBACK")
            return nil
        }
        do {
            try control("COMMIT")
            rollbackActions.removeAll()
        } catch {
            try? control("ROLLBACK")
            undo(downTo: 0)
            for member in members { outcomes[member] = error }
        }
        return nil
    }

    /// The schema cookie, which every change of the schema moves (`PRAGMA schema_version`).
    private func schemaCookie() throws -> Int64? {
        try scalarInteger("PRAGMA schema_version")
    }

    /// Runs the bodies at `indices` each in a savepoint of its own inside one `BEGIN IMMEDIATE … COMMIT`. A body
    /// that throws is rolled back to its savepoint and answered its own error; the bodies before and after it
    /// commit.
    ///
    /// A body whose failure ended the whole transaction (SQLite rolled it back: ON CONFLICT ROLLBACK, a full disk)
    /// is answered its own error, and the bodies that had succeeded before it in that transaction run again, first
    /// in the next one: their changes were lost with it, through no failure of theirs. (They were answered the
    /// failing body's error before, though nothing was wrong with them.) Every round leaves out at least the body
    /// that failed, so this ends. Only a failed `BEGIN` or `COMMIT` is everyone's failure: every body whose changes
    /// that transaction held, or that had not run yet, is answered its error.
    func writeIsolated(_ bodies: [() throws -> Void], _ indices: [Int], into outcomes: inout [(any Error)?]) {
        // The bodies still to run, in order.
        var queue = indices[...]
        while !queue.isEmpty {
            do {
                try begin(.write)
            } catch {
                for index in queue { outcomes[index] = error }
                return
            }
            transactionDepth = 1
            defer { transactionDepth = 0 }
            // The bodies whose changes this transaction holds.
            var members: [Int] = []
            var bodyEndedTransaction = false
            while let index = queue.popFirst() {
                let mark = rollbackActions.count
                do {
                    try control("SAVEPOINT grouped_write")
                    try bodies[index]()
                    try control("RELEASE grouped_write")
                    members.append(index)
                } catch {
                    outcomes[index] = error
                    // SQLite may have rolled back the whole transaction already (autocommit is back on); a
                    // PostgreSQL session may have died.
                    if isTransactionOpen {
                        do {
                            try control("ROLLBACK TO grouped_write")
                            try control("RELEASE grouped_write")
                            undo(downTo: mark)
                            continue
                        } catch {}
                    }
                    bodyEndedTransaction = true
                    break
                }
            }
            if !bodyEndedTransaction {
                guard !members.isEmpty else {
                    try? control("ROLLBACK")
                    return
                }
                do {
                    try control("COMMIT")
                    rollbackActions.removeAll()
                    continue
                } catch {
                    try? control("ROLLBACK")
                    undo(downTo: 0)
                    for index in members { outcomes[index] = error }
                    continue
                }
            }
            try? control("ROLLBACK")
            undo(downTo: 0)
            // The members lost their changes with the transaction, not by their own failure: they run again.
            queue = (members + queue)[...]
        }
    }
}
