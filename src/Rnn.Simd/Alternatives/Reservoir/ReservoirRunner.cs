using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// The reservoir of an ESN-shaped network run with its sparse W: the state update of Lukoševičius 2012 Eq. 2-3,
/// h(n) = (1 - a) h(n-1) + a tanh(W_in u(n) + W h(n-1) + b), read from the network's layer-0 parameters (the first H
/// rows of weight_ih_l0, weight_hh_l0, bias_ih_l0 + bias_hh_l0; a = σ(b_T) for a highway network, 1 for Elman).
/// The network's own step multiplies the dense W (N² work); this one only its non-zeros (Density·N²), which is
/// what makes harvesting long series with big reservoirs cheap. Allocates nothing per step.
/// </summary>
internal sealed class ReservoirRunner<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly SparseMatrix<T> _w;
    private readonly T[] _inputWeightsT; // I x H: column c of W_in, contiguous
    private readonly T[] _bias;          // H
    private readonly T[] _pre;           // H scratch
    private readonly T _leak;
    private readonly bool _leaky;

    /// <summary>Reads the reservoir of <paramref name="network"/> (one Elman tanh or depth-1 highway layer).</summary>
    public ReservoirRunner(RecurrentNetwork<T> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        NetworkArchitecture arch = network.Architecture;
        int h = arch.HiddenSizes[0], inputs = arch.InputSize;
        Units = h;
        InputSize = inputs;
        ReadOnlySpan<T> p = network.Parameters;
        ParameterLayout layout = network.Layout;
        _w = SparseMatrix<T>.FromDense(p.Slice(layout.Get(0, ParameterKind.RecurrentWeight).Offset), h, h);
        ReadOnlySpan<T> wIh = p.Slice(layout.Get(0, ParameterKind.InputWeight).Offset, h * inputs);
        _inputWeightsT = new T[inputs * h];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < inputs; c++) _inputWeightsT[c * h + r] = wIh[r * inputs + c];
        _bias = new T[h];
        ReadOnlySpan<T> bIh = p.Slice(layout.Get(0, ParameterKind.InputBias).Offset, h), bHh = p.Slice(layout.Get(0, ParameterKind.RecurrentBias).Offset, h);
        TensorPrimitives.Add(bIh, bHh, _bias);
        _pre = new T[h];
        if (arch.Cell == CellType.Highway)
        {
            double bT = double.CreateTruncating(p[layout.Get(0, ParameterKind.InputBias).Offset + h]) + double.CreateTruncating(p[layout.Get(0, ParameterKind.RecurrentBias).Offset + h]);
            _leak = T.CreateTruncating(1 / (1 + Math.Exp(-bT)));
            _leaky = true;
        }
        else
        {
            _leak = T.One;
        }
    }

    /// <summary>H.</summary>
    public int Units { get; }

    /// <summary>The network's input size (feedback columns included).</summary>
    public int InputSize { get; }

    /// <summary>Non-zeros of W.</summary>
    public int NonZeros => _w.NonZeros;

    /// <summary>h ← the next state for input <paramref name="input"/> (length I). Allocates nothing.</summary>
    public void Step(ReadOnlySpan<T> input, Span<T> h)
    {
        int n = Units;
        Span<T> pre = _pre;
        _bias.CopyTo(pre);
        for (int c = 0; c < InputSize; c++)
        {
            T u = input[c];
            if (u != T.Zero) TensorPrimitives.MultiplyAdd(_inputWeightsT.AsSpan(c * n, n), u, pre, pre);
        }
        _w.MultiplyAdd(h, pre);
        if (!_leaky)
        {
            TensorPrimitives.Tanh(pre, h);
            return;
        }
        // h = h + a (tanh(pre) - h) = (1 - a) h + a tanh(pre).
        TensorPrimitives.Tanh(pre, pre);
        TensorPrimitives.Subtract(pre, h, pre);
        TensorPrimitives.MultiplyAdd(pre, _leak, h, h);
    }
}
