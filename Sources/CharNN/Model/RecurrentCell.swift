/// The recurrent cell of every layer of a model: the three cells char-rnn offers, each exactly as
/// the PyTorch module of the same name computes it, so a checkpoint's tensors are that module's
/// `state_dict` under the cell's name (`lstm.*`, `gru.*`, `rnn.*`).
public enum RecurrentCell: String, Codable, Sendable, CaseIterable, Hashable {
    /// `nn.LSTM`: gates i, f, g, o; a hidden and a cell state.
    case lstm
    /// `nn.GRU`: gates r, z, n, with n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)); a hidden state only.
    case gru
    /// `nn.RNN` with tanh: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh); a hidden state only.
    case rnn

    /// Gate blocks stacked along the rows of each layer's weights: 4, 3 and 1, so `weight_ih_l{k}`
    /// is [gateCount·H, in] and `weight_hh_l{k}` [gateCount·H, H].
    public var gateCount: Int {
        switch self {
        case .lstm: 4
        case .gru: 3
        case .rnn: 1
        }
    }

    /// The PyTorch module's attribute name and the tensors' prefix: "lstm", "gru" or "rnn".
    public var moduleName: String { rawValue }

    /// The module's name as text shows it: "LSTM", "GRU", "RNN".
    public var displayName: String { rawValue.uppercased() }

    /// Whether the cell carries a second state (the LSTM's c) beside h.
    public var hasCellState: Bool { self == .lstm }
}
