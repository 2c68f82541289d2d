/// Range checks on what a checkpoint's metadata claims, made before the values are used.
///
/// The checksums catch accidental damage; these catch what checksums cannot (a file written by
/// a buggy or hostile tool with valid checksums) and would otherwise end in a trap, a huge
/// allocation or an endless loop later: a negative stream position indexes before the corpus,
/// a step count of `Int.max` overflows on the next step, a layer count of a billion allocates
/// terabytes.
enum CheckpointSanity {
    /// Counts above this (steps, epochs) are not from any real run and risk overflow when added to.
    static let maximumCount = 1 << 53

    /// Refuses a config whose tensors could not possibly be in `dataBytes` bytes.
    static func checkFits(_ config: ModelConfig, dataBytes: Int, path: String) throws(CheckpointError) {
        // Bounds that keep the layout's own arithmetic far from overflow; the weights of a model
        // at these bounds would already be petabytes, so the size check below decides.
        guard config.vocabularySize <= 1 << 24, config.embeddingSize <= 1 << 20, config.hiddenSize <= 1 << 20,
              config.layers <= 1 << 10 else {
            throw .invalid(path: path, reason: "model config \(config.layers)×\(config.hiddenSize), embedding \(config.embeddingSize), vocabulary \(config.vocabularySize) is out of range")
        }
        // Exactly the model's weights (docs/checkpoint-format.md); a full checkpoint holds three times as much.
        let floats = config.parameterCount
        guard floats * 4 <= dataBytes else {
            throw .invalid(path: path, reason: "the model config needs at least \(floats * 4) bytes of weights but the file has \(dataBytes) bytes")
        }
    }

    /// Refuses NaN and infinity: training never saves them, so they mean damage or a foreign writer.
    static func checkFinite(_ values: [Float], what: String, path: String) throws(CheckpointError) {
        guard values.allSatisfy(\.isFinite) else {
            throw .invalid(path: path, reason: "\(what) hold a non-finite value (NaN or infinity)")
        }
    }

    static func check(_ optimizer: Checkpoint.StoredOptimizer, path: String) throws(CheckpointError) {
        guard optimizer.name == "adam", optimizer.beta1 >= 0, optimizer.beta1 < 1, optimizer.beta2 >= 0, optimizer.beta2 < 1,
              optimizer.eps.isFinite, optimizer.eps > 0, (0..<maximumCount).contains(optimizer.step) else {
            throw .invalid(path: path, reason: "optimizer settings out of range (\(optimizer.name), beta1 \(optimizer.beta1), beta2 \(optimizer.beta2), eps \(optimizer.eps), step \(optimizer.step))")
        }
    }

    /// Files before format version 3 repeated the model's shape in the training options.
    static func check(shapeOf options: TrainingOptions, config: ModelConfig, path: String) throws(CheckpointError) {
        guard options.layers == config.layers, options.hiddenSize == config.hiddenSize,
              options.embeddingSize == config.embeddingSize else {
            throw .invalid(path: path, reason: "stored training options disagree with the model config")
        }
    }

    static func check(_ state: TrainingState, path: String) throws(CheckpointError) {
        // The budget, cadence and thread count are this session's (a resume replaces them), so
        // a checkpoint from before a limit was added stays loadable; everything else must pass
        // the command line's own validation.
        var lasting = state.options
        let defaults = TrainingOptions()
        (lasting.epochs, lasting.maxSteps, lasting.timeBudgetSeconds) = (nil, nil, nil)
        (lasting.evalEvery, lasting.saveEvery, lasting.threads) = (defaults.evalEvery, defaults.saveEvery, defaults.threads)
        do { try lasting.validate() } catch {
            throw .invalid(path: path, reason: "stored training options: \(error.description)")
        }
        let plan = state.learningRate
        guard (0..<maximumCount).contains(state.step), (0..<maximumCount).contains(state.cursor.epoch),
              (0..<maximumCount).contains(state.cursor.position),
              state.elapsedSeconds.isFinite, state.elapsedSeconds >= 0,
              plan.base.isFinite, plan.base > 0, (0..<maximumCount).contains(plan.warmupSteps),
              (plan.totalSteps ?? 0) >= 0, (plan.totalSteps ?? 0) < maximumCount,
              state.bestValidationLoss.map({ $0.isFinite }) ?? true,
              state.corpus.symbolCount >= 0 else {
            throw .invalid(path: path, reason: "training state out of range (step \(state.step), cursor \(state.cursor.epoch):\(state.cursor.position))")
        }
    }
}
