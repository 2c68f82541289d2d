// What every recurrent layer (LSTMLayer.swift, GRULayer.swift, RNNLayer.swift) shares: its
// tensors, its packed recurrent weights and the activations forward keeps for backward.

/// A layer's parameters (or their gradients) inside the flat parameter buffer; G = the cell's gate count.
struct RecurrentWeights<P> {
    var weightIH: P  // [G·H, I]
    var weightHH: P  // [G·H, H]
    var biasIH: P    // [G·H]
    var biasHH: P    // [G·H]
}

/// The recurrent weights packed for ``PackedGEMM``, one buffer per layer: forward packs W_hhᵀ
/// as [H, G·H] into it, backward repacks it as W_hh [G·H, H] (the forward layout is dead by then),
/// so the two layouts share the memory.
struct PackedRecurrentWeights {
    var buffer: UnsafeMutablePointer<Float>
    var threads: Int

    /// Floats the buffer needs for either layout of a [G·H, H] matrix (`gateRows` = G·H).
    static func count(hidden H: Int, gateRows: Int) -> Int {
        max(PackedGEMM.packedCount(k: H, n: gateRows), PackedGEMM.packedCount(k: gateRows, n: H))
    }
}

/// What forward keeps for backward, one set per layer, allocated once per (B, T). A buffer a cell
/// does not use has no elements (`cell` outside the LSTM, `hiddenGates` outside the GRU).
struct RecurrentActivations {
    var gates: UnsafeMutablePointer<Float>        // [T, B, G·H] activated gates (the RNN: pre-activations)
    var hidden: UnsafeMutablePointer<Float>       // [T+1, B, H]; slot 0 is the initial h
    var cell: UnsafeMutablePointer<Float>         // LSTM: [T+1, B, H]; slot 0 is the initial c
    var hiddenGates: UnsafeMutablePointer<Float>  // GRU: [T, B, 3H] h_{t-1}·W_hhᵀ + b_hh

    /// Floats one layer's activations take for N = T·B rows of B streams.
    static func count(cell: RecurrentCell, rows N: Int, batch B: Int, hidden H: Int) -> Int {
        let gates = N * cell.gateCount * H, hidden = (N + B) * H
        return switch cell {
        case .lstm: gates + 2 * hidden
        case .gru: 2 * gates + hidden
        case .rnn: gates + hidden
        }
    }
}
