// Starting a data-parallel run: every rank opens its input, then all agree before training.

extension TrainingRun {
    /// Runs `open` (reading the corpus, and on rank 0 taking the run directory) on every rank of
    /// `group`, then meets the others: if any rank failed, every rank throws (the failed one its
    /// own error, the others ``DistributedError/peerFailed(rank:)``) instead of waiting forever for
    /// a rank that is gone. `abandon` undoes a successful `open` on a rank that must stop.
    /// The ranks must also have read the same corpus (and checkpoint): compared here too.
    ///
    /// A start that fails finishes the group (MPI_Finalize) on every rank before throwing: the
    /// ranks are in step here, and a finished rank's exit is a normal one to mpirun. So a rank
    /// that stops only because another failed can exit 0, and mpirun's status is then always the
    /// failing rank's own (without it, mpirun reports whichever rank exits first).
    static func openTogether<Opened>(
        _ group: ProcessGroup, open: () throws -> Opened, fingerprint: (Opened) -> [Double], abandon: (Opened) -> Void
    ) throws -> Opened {
        let result: Result<Opened, any Error>
        do { result = .success(try open()) } catch { result = .failure(error) }
        guard group.size > 1 else { return try result.get() }
        let opened: Opened
        switch result {
        case .failure(let error):
            _ = try group.firstFailure(false)
            group.finish()
            throw error
        case .success(let value):
            if let failed = try group.firstFailure(true) {
                abandon(value)
                group.finish()
                throw DistributedError.peerFailed(rank: failed)
            }
            opened = value
        }
        // Equal on every rank iff the maximum of each value equals minus the maximum of its negation.
        let mine = fingerprint(opened)
        var both = mine + mine.map { -$0 }
        try group.maximum(&both)
        if zip(both[..<mine.count], both[mine.count...]).contains(where: { $0 != -$1 }) {
            abandon(opened)
            group.finish()
            throw DistributedError.ranksDisagree("they read different corpora or checkpoints (symbol count, checksum or step differ); give every rank the same files at the same paths")
        }
        return opened
    }
}
