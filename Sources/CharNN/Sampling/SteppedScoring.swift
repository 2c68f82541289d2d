extension Scorer {
    /// A one-pass scorer that reads the text through the sampler's own ``InferenceStep`` in
    /// `precision`, one symbol at a time: the loss sampling in that precision sees, to the bit.
    /// For precisions that round activations (``SamplingPrecision/roundsActivations``), which no
    /// model's weights express, this is how `charnn eval --precision` measures them.
    package static func stepping(model: CharModel, tokenizer: Tokenizer, precision: SamplingPrecision,
                                 threads: Int) throws(ModelError) -> Scorer {
        let step = try InferenceStep(model: model, streams: 1, precision: precision)
        step.threads = min(2, max(1, threads))
        var token: Int32 = 0
        let stepper = SymbolStepper(
            vocabularySize: model.config.vocabularySize, reset: { step.reset() },
            step: { id in
                token = id
                withUnsafePointer(to: token) { step.step(UnsafeBufferPointer(start: $0, count: 1)) }
                return UnsafePointer(step.logits)
            })
        var scorer = try Scorer(model: precision.applied(to: model), tokenizer: tokenizer)
        scorer.stepper = stepper
        return scorer
    }
}
