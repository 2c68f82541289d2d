extension CharModel {
    /// This model with `added` more symbols at the end of its vocabulary, for fine-tuning on a
    /// text with symbols the model never saw.
    ///
    /// Every existing weight is kept. A new symbol's embedding row is drawn from `rng` as at
    /// initialization (N(0, 1), as `nn.Embedding`). Its head row gets zero weights and the smallest
    /// head bias the model has: until training moves it, the new symbol's logit ignores the state
    /// and it starts as likely as the rarest symbol the model knows — a small prior, so the model's
    /// predictions for the text it knows barely change.
    public func extendingVocabulary(by added: Int, using rng: inout RandomGenerator) throws(ModelError) -> CharModel {
        guard added >= 0 else { throw .invalidConfig("cannot add \(added) symbols to the vocabulary") }
        var config = self.config
        config.vocabularySize += added
        try config.validate()
        let old = parameters.layout, new = ParameterLayout(config: config)
        var grown = ParameterSet(zerosFor: new)
        let V = self.config.vocabularySize, E = config.embeddingSize
        for t in old.tensors {
            let target = new[t.role]
            grown.values.replaceSubrange(target.offset..<(target.offset + t.count), with: parameters.values[t.range])
        }
        let embedding = new[.embedding].offset
        for i in (embedding + V * E)..<(embedding + config.vocabularySize * E) { grown.values[i] = rng.nextGaussian() }
        let bias = new[.headBias].offset
        let prior = parameters.values[old[.headBias].range].min() ?? 0
        for i in (bias + V)..<(bias + config.vocabularySize) { grown.values[i] = prior }
        // The new head weight rows stay zero (the rows of the [V, H] matrix past the old V).
        return try CharModel(config: config, parameters: grown)
    }
}
