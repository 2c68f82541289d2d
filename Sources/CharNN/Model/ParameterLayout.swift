/// One named parameter tensor inside the flat parameter buffer.
public struct ParameterTensor: Sendable, Equatable {
    /// PyTorch `state_dict` name, e.g. `lstm.weight_hh_l1`.
    public let name: String
    /// Row-major shape, as PyTorch reports it.
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Where each parameter tensor lives in one contiguous Float buffer, in PyTorch `state_dict` order.
///
/// One buffer (as in llm.c) makes Adam, clipping and checkpoint writes a single flat loop, while the
/// names and shapes match `nn.Embedding` + `nn.LSTM` + `nn.Linear` registered as `embedding`,
/// `lstm` and `head`, so weights move to and from PyTorch unchanged. LSTM gates are stacked in
/// PyTorch's order i, f, g, o along the 4H rows.
public struct ParameterLayout: Sendable, Equatable {
    public let tensors: [ParameterTensor]
    public let totalCount: Int

    public init(config: ModelConfig) {
        let v = config.vocabularySize, e = config.embeddingSize, h = config.hiddenSize
        var specs: [(String, [Int])] = [("embedding.weight", [v, e])]
        for k in 0..<config.layers {
            specs.append(("lstm.weight_ih_l\(k)", [4 * h, config.inputSize(ofLayer: k)]))
            specs.append(("lstm.weight_hh_l\(k)", [4 * h, h]))
            specs.append(("lstm.bias_ih_l\(k)", [4 * h]))
            specs.append(("lstm.bias_hh_l\(k)", [4 * h]))
        }
        specs.append(("head.weight", [v, h]))
        specs.append(("head.bias", [v]))
        var offset = 0
        var tensors: [ParameterTensor] = []
        for (name, shape) in specs {
            let tensor = ParameterTensor(name: name, shape: shape, offset: offset)
            tensors.append(tensor)
            offset += tensor.count
        }
        self.tensors = tensors
        self.totalCount = offset
    }

    /// The tensor with this `state_dict` name, if the model has it.
    public subscript(name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// Offsets of the embedding, each LSTM layer's four tensors and the head, for the hot paths.
    struct Offsets {
        var embedding: Int
        var weightIH: [Int], weightHH: [Int], biasIH: [Int], biasHH: [Int]
        var headWeight: Int, headBias: Int
    }

    var offsets: Offsets {
        func at(_ name: String) -> Int { self[name]!.offset }
        let layers = (tensors.count - 3) / 4
        return Offsets(
            embedding: at("embedding.weight"),
            weightIH: (0..<layers).map { at("lstm.weight_ih_l\($0)") },
            weightHH: (0..<layers).map { at("lstm.weight_hh_l\($0)") },
            biasIH: (0..<layers).map { at("lstm.bias_ih_l\($0)") },
            biasHH: (0..<layers).map { at("lstm.bias_hh_l\($0)") },
            headWeight: at("head.weight"), headBias: at("head.bias"))
    }
}
