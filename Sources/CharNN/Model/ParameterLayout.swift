/// What one parameter tensor is in the model, independent of how PyTorch names it. The recurrent
/// roles are the same for every cell; the layout's cell gives them their module's name.
public enum ParameterRole: Sendable, Hashable {
    /// The embedding table, [V, E] (`embedding.weight`).
    case embedding
    /// Recurrent layer `layer`'s input-to-gates weights, [G·H, input size] (`lstm.weight_ih_l{layer}`),
    /// G the cell's ``RecurrentCell/gateCount``.
    case weightIH(layer: Int)
    /// Recurrent layer `layer`'s hidden-to-gates weights, [G·H, H] (`lstm.weight_hh_l{layer}`).
    case weightHH(layer: Int)
    /// Recurrent layer `layer`'s input-side gate bias, [G·H] (`lstm.bias_ih_l{layer}`).
    case biasIH(layer: Int)
    /// Recurrent layer `layer`'s hidden-side gate bias, [G·H] (`lstm.bias_hh_l{layer}`).
    case biasHH(layer: Int)
    /// The output head's weights, [V, H] (`head.weight`).
    case headWeight
    /// The output head's bias, [V] (`head.bias`).
    case headBias

    /// The PyTorch `state_dict` name of the tensor in this role in an LSTM model, e.g. `lstm.weight_hh_l1`.
    public var name: String { name(cell: .lstm) }

    /// The PyTorch `state_dict` name of the tensor in this role in a model of `cell`, e.g. `gru.weight_hh_l1`.
    public func name(cell: RecurrentCell) -> String {
        let m = cell.moduleName
        return switch self {
        case .embedding: "embedding.weight"
        case .weightIH(let k): "\(m).weight_ih_l\(k)"
        case .weightHH(let k): "\(m).weight_hh_l\(k)"
        case .biasIH(let k): "\(m).bias_ih_l\(k)"
        case .biasHH(let k): "\(m).bias_hh_l\(k)"
        case .headWeight: "head.weight"
        case .headBias: "head.bias"
        }
    }

    /// A matrix the forward pass multiplies through (not the embedding, a lookup, nor a bias).
    public var isMatrixProduct: Bool {
        switch self {
        case .weightIH, .weightHH, .headWeight: true
        case .embedding, .biasIH, .biasHH, .headBias: false
        }
    }
}

/// One named parameter tensor inside the flat parameter buffer.
public struct ParameterTensor: Sendable, Equatable {
    /// What the tensor is.
    public let role: ParameterRole
    /// Row-major shape, as PyTorch reports it.
    public let shape: [Int]
    /// Offset of the first element in the flat buffer.
    public let offset: Int
    /// PyTorch `state_dict` name, e.g. `lstm.weight_hh_l1` (`gru.…`, `rnn.…` for those cells).
    public let name: String
    /// Number of elements: the product of the shape.
    public var count: Int { shape.reduce(1, *) }
    /// The tensor's elements in the flat buffer, `offset ..< offset + count`.
    public var range: Range<Int> { offset..<(offset + count) }
}

/// Where each parameter tensor lives in one contiguous Float buffer, in PyTorch `state_dict` order.
///
/// One buffer (as in llm.c) makes Adam, clipping and checkpoint writes a single flat loop, while the
/// names and shapes match `nn.Embedding` + `nn.LSTM` (`nn.GRU`, `nn.RNN`) + `nn.Linear` registered
/// as `embedding`, `lstm` (`gru`, `rnn`) and `head`, so weights move to and from PyTorch unchanged.
/// Gates are stacked in PyTorch's order along the G·H rows: i, f, g, o for the LSTM, r, z, n for the GRU.
///
/// This is the one place the tensors' names, shapes and order are spelled: the model's passes, the
/// sampler, the checkpoint reader and writer and the parameter count all read them from here.
public struct ParameterLayout: Sendable, Equatable {
    /// The cell whose module names the recurrent tensors.
    public let cell: RecurrentCell
    /// Every tensor, in `state_dict` order: embedding, each layer's four, then the head's two.
    public let tensors: [ParameterTensor]
    /// Elements in all tensors: the length of the flat buffer, i.e. the parameter count.
    public let totalCount: Int
    /// Each layer's four LSTM tensors, found once here so the hot paths never search by name.
    let weightIH: [ParameterTensor], weightHH: [ParameterTensor], biasIH: [ParameterTensor], biasHH: [ParameterTensor]
    let embedding: ParameterTensor, headWeight: ParameterTensor, headBias: ParameterTensor

    /// The layout of a model of shape `config`.
    public init(config: ModelConfig) {
        let v = config.vocabularySize, e = config.embeddingSize, h = config.hiddenSize, g = config.gateRows
        var specs: [(ParameterRole, [Int])] = [(.embedding, [v, e])]
        for k in 0..<config.layers {
            specs.append((.weightIH(layer: k), [g, config.inputSize(ofLayer: k)]))
            specs.append((.weightHH(layer: k), [g, h]))
            specs.append((.biasIH(layer: k), [g]))
            specs.append((.biasHH(layer: k), [g]))
        }
        specs.append((.headWeight, [v, h]))
        specs.append((.headBias, [v]))
        var offset = 0
        var tensors: [ParameterTensor] = []
        for (role, shape) in specs {
            let tensor = ParameterTensor(role: role, shape: shape, offset: offset, name: role.name(cell: config.cell))
            tensors.append(tensor)
            offset += tensor.count
        }
        self.cell = config.cell
        self.tensors = tensors
        self.totalCount = offset
        // The order above: embedding, then four tensors per layer, then the head.
        embedding = tensors[0]
        weightIH = (0..<config.layers).map { tensors[1 + 4 * $0] }
        weightHH = (0..<config.layers).map { tensors[2 + 4 * $0] }
        biasIH = (0..<config.layers).map { tensors[3 + 4 * $0] }
        biasHH = (0..<config.layers).map { tensors[4 + 4 * $0] }
        headWeight = tensors[tensors.count - 2]
        headBias = tensors[tensors.count - 1]
    }

    /// The tensor with this `state_dict` name, if the model has it.
    public subscript(name: String) -> ParameterTensor? { tensors.first { $0.name == name } }

    /// The tensor in this role; the role must exist in this model (a layer below `layers`).
    public subscript(role: ParameterRole) -> ParameterTensor {
        switch role {
        case .embedding: embedding
        case .weightIH(let k): weightIH[k]
        case .weightHH(let k): weightHH[k]
        case .biasIH(let k): biasIH[k]
        case .biasHH(let k): biasHH[k]
        case .headWeight: headWeight
        case .headBias: headBias
        }
    }

    /// Entries of the matrices one step multiplies through (``ParameterRole/isMatrixProduct``).
    public var matrixWeightCount: Int { tensors.filter(\.role.isMatrixProduct).reduce(0) { $0 + $1.count } }
}
