namespace Rnn.Simd.Cells;

/// <summary>The recurrent cell of a layer.</summary>
public enum CellType
{
    /// <summary>Elman (chapter Fig. 2.1): h_t = act(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh); one gate block.</summary>
    Elman = 0,
    /// <summary>LSTM, PyTorch formulation and gate order (i, f, g, o); four gate blocks.</summary>
    Lstm = 1,
    /// <summary>GRU, PyTorch formulation (r, z, n; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))); three gate blocks.</summary>
    Gru = 2,
    /// <summary>Recurrent highway network cell (chapter §2.4; Zilly et al. 2017): per time step
    /// <c>NetworkArchitecture.RecurrenceDepth</c> micro-layers of a tanh candidate h̃ and a transform gate t with the
    /// coupled carry 1 - t, the input entering the first micro-layer only; two gate blocks (h̃, t) per micro-layer.</summary>
    Highway = 3,
}

/// <summary>The activation of an Elman cell.</summary>
public enum Activation
{
    /// <summary>tanh (the default, as in PyTorch's nn.RNN).</summary>
    Tanh = 0,
    /// <summary>ReLU, max(a, 0).</summary>
    Relu = 1,
    /// <summary>Logistic sigmoid.</summary>
    Sigmoid = 2,
}

/// <summary>Facts about cell types.</summary>
public static class CellTypeExtensions
{
    /// <summary>Number of gate blocks G: the weight matrices of a layer are (G·H) x I and (G·H) x H (1 Elman, 4 LSTM,
    /// 3 GRU, 2 Highway per micro-layer; each cell's definition says).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a known cell type.</exception>
    public static int GateCount(this CellType cell) => CellRegistry.Get(cell).GateCount;
}
