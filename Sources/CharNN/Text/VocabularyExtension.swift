extension Vocabulary {
    /// This vocabulary with `newSymbols` appended, in order, as ids `count ..< count + newSymbols.count`,
    /// each with its count in `counts`; every existing id keeps its symbol, so a model trained on
    /// this vocabulary still reads its old ids the same way (fine-tuning with `--extend-vocab`).
    ///
    /// - Throws: ``TextError/invalidVocabulary(reason:)`` when a new symbol is empty or already
    ///   present, or the counts do not match the symbols.
    public func appending(_ newSymbols: [String], counts newCounts: [Int]) throws(TextError) -> Vocabulary {
        try Vocabulary(symbols: symbols + newSymbols, counts: counts + newCounts, unknownID: unknownID)
    }
}
