// Checkpoints know the trainer's state; the trainer knows nothing of checkpoints, so Training
// stays below Checkpoint in the folder order (docs/architecture.md).

extension Trainer {
    /// Continues the run saved in `checkpoint` on the same corpus.
    /// Under data-parallel training every rank of `group` resumes from the same checkpoint, with
    /// any number of ranks: the checkpoint holds every stream's state.
    public convenience init(data: TrainingData, resuming checkpoint: Checkpoint, group: ProcessGroup = .single) throws {
        guard let saved = checkpoint.training, let optimizer = checkpoint.optimizer, let carried = checkpoint.carriedState else {
            throw TrainingError.incompatibleResume("the checkpoint holds weights only, without optimizer and training state")
        }
        guard saved.corpus.symbolCount == data.fingerprint.symbolCount, saved.corpus.tokenChecksum == data.fingerprint.tokenChecksum,
              checkpoint.tokenizer == data.tokenizer else {
            throw TrainingError.incompatibleResume("the corpus differs from the one this run was trained on (\(saved.corpus.fileName))")
        }
        // With averaging, the file's model tensors hold the average (what sampling should use) and
        // the raw iterate that training continues from is stored beside them.
        var model = checkpoint.model
        var average: WeightAverage?
        if let decay = saved.options.averageDecay {
            guard let raw = checkpoint.trainingWeights else {
                throw TrainingError.incompatibleResume("the run averages its weights but the checkpoint lacks the raw weights (training.weights.*)")
            }
            average = WeightAverage(decay: decay, startingAt: model.parameters)
            model.parameters = raw
        }
        let streams = try BatchStreams(tokens: data.train, batch: saved.options.batch, steps: saved.options.sequenceLength)
        try self.init(data: data, streams: streams, model: model, optimizer: optimizer, state: saved, carried: carried,
                      average: average, group: group)
    }

    /// Everything needed to continue this run exactly.
    public func checkpoint() -> Checkpoint {
        Checkpoint(model: evaluatedModel, tokenizer: data.tokenizer, optimizer: optimizer, training: state, carriedState: carried,
                   trainingWeights: average == nil ? nil : model.parameters)
    }
}
