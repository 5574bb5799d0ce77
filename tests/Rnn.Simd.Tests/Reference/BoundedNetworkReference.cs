using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// A plain scalar forward of a stacked Elman / LSTM / GRU network with a linear readout, in double on
/// <see cref="Bounded"/> values, so that every output and state element comes with a bound on how far a float or
/// double computation of it may be (<see cref="ErrorModel"/>). It reads the network's weights by PyTorch name (exact:
/// they are values of T) and never calls a library kernel. The state carries its bounds from step to step, or is re-read from the library's state before a step (<see cref="Resync"/>).
/// </summary>
/// <remarks>
/// Per layer, per batch row, from the layer input x and the previous h (, c):
/// <code>
/// Elman: a = b_ih + b_hh + W_ih x + W_hh h;  h' = act(a)                       (one sum of I + H + 2 terms)
/// LSTM:  a = b_ih + b_hh + W_ih x + W_hh h, rows i | f | g | o;  see GateReference.LstmForward
/// GRU:   gx = b_ih + W_ih x, gh = W_hh h (rows r | z | n);  see GateReference.GruForward (adds b_hh)
/// y = b_out + W_out h_top
/// </code>
/// </remarks>
public sealed class BoundedNetworkReference
{
    private readonly ErrorModel _m;
    private readonly CellType _cell;
    private readonly Activation _act;
    private readonly int _in, _out, _gates, _batch;
    private readonly int[] _hidden;
    private readonly double[][] _wih, _whh, _bih, _bhh;
    private double[] _wout = [], _bout = [];

    /// <summary>h of every layer, [layer][b·H + j].</summary>
    public readonly Bounded[][] H;

    /// <summary>c of every LSTM layer, [layer][b·H + j] (zero-length arrays for other cells).</summary>
    public readonly Bounded[][] C;

    private BoundedNetworkReference(ErrorModel m, NetworkArchitecture a, int batch)
    {
        _m = m; _cell = a.Cell; _act = a.Activation; _in = a.InputSize; _out = a.OutputSize; _batch = batch;
        _gates = a.Cell switch { CellType.Elman => 1, CellType.Lstm => 4, CellType.Gru => 3, _ => throw new ArgumentOutOfRangeException(nameof(a)) };
        _hidden = new int[a.NumLayers];
        for (int l = 0; l < _hidden.Length; l++) _hidden[l] = a.HiddenSizes[l];
        int layers = _hidden.Length;
        _wih = new double[layers][]; _whh = new double[layers][]; _bih = new double[layers][]; _bhh = new double[layers][];
        H = new Bounded[layers][]; C = new Bounded[layers][];
        for (int l = 0; l < layers; l++)
        {
            H[l] = new Bounded[batch * _hidden[l]];
            C[l] = new Bounded[_cell == CellType.Lstm ? batch * _hidden[l] : 0];
        }
    }

    /// <summary>The reference of a network (its weights, as they are) for the streams of <paramref name="state"/>, starting from it (exact values).</summary>
    public static BoundedNetworkReference FromNetwork<T>(RecurrentNetwork<T> net, NetworkState<T> state)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture a = net.Architecture;
        var r = new BoundedNetworkReference(ErrorModel.For<T>(), a, state.BatchSize);
        for (int l = 0; l < a.NumLayers; l++)
        {
            r._wih[l] = Read(net.Parameter($"weight_ih_l{l}"));
            r._whh[l] = Read(net.Parameter($"weight_hh_l{l}"));
            r._bih[l] = Read(net.Parameter($"bias_ih_l{l}"));
            r._bhh[l] = Read(net.Parameter($"bias_hh_l{l}"));
            if (r._wih[l].Length != r._gates * a.HiddenSizes[l] * a.LayerInputSize(l) || r._whh[l].Length != r._gates * a.HiddenSizes[l] * a.HiddenSizes[l])
                throw new InvalidOperationException($"Unexpected weight shapes in layer {l}.");
        }
        r.Resync(state);
        r._wout = Read(net.Parameter("readout.weight"));
        r._bout = Read(net.Parameter("readout.bias"));
        return r;
    }

    /// <summary>
    /// Restarts from the values of <paramref name="state"/> (exact): the next <see cref="Step"/> then bounds one step of
    /// the library from the library's own state, so bounds do not compound over steps while every step is still
    /// checked, and the state's carry with it (a state the library did not carry correctly differs from it).
    /// </summary>
    public void Resync<T>(NetworkState<T> state) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (state.BatchSize != _batch) throw new ArgumentException("Batch size differs.", nameof(state));
        for (int l = 0; l < H.Length; l++)
        {
            ReadOnlySpan<T> h = state.Hidden(l), c = state.Cell(l);
            for (int i = 0; i < H[l].Length; i++) H[l][i] = Bounded.Exact(double.CreateTruncating(h[i]));
            for (int i = 0; i < C[l].Length; i++) C[l][i] = Bounded.Exact(double.CreateTruncating(c[i]));
        }
    }

    private static double[] Read<T>(ReadOnlySpan<T> s) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var d = new double[s.Length];
        for (int i = 0; i < d.Length; i++) d[i] = double.CreateTruncating(s[i]);
        return d;
    }

    /// <summary>One step of the B streams: x is B x I (exact values), returns y (B x O); advances <see cref="H"/> and <see cref="C"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Bounded[] Step(ReadOnlySpan<double> x)
    {
        var input = new Bounded[_batch * _in];
        for (int i = 0; i < input.Length; i++) input[i] = Bounded.Exact(x[i]);
        int inSize = _in;
        for (int l = 0; l < _hidden.Length; l++)
        {
            int h = _hidden[l];
            var hNew = new Bounded[_batch * h];
            for (int b = 0; b < _batch; b++)
            {
                ReadOnlySpan<Bounded> xb = input.AsSpan(b * inSize, inSize), hb = H[l].AsSpan(b * h, h);
                for (int j = 0; j < h; j++)
                {
                    switch (_cell)
                    {
                        case CellType.Elman:
                            hNew[b * h + j] = _m.Activate(_act, PreActivation(l, j, xb, hb, inSize, h, bothBiases: true, withHidden: true));
                            break;
                        case CellType.Lstm:
                        {
                            GateReference.LstmOut o = GateReference.LstmForward(_m,
                                PreActivation(l, j, xb, hb, inSize, h, true, true), PreActivation(l, h + j, xb, hb, inSize, h, true, true),
                                PreActivation(l, 2 * h + j, xb, hb, inSize, h, true, true), PreActivation(l, 3 * h + j, xb, hb, inSize, h, true, true),
                                C[l][b * h + j]);
                            C[l][b * h + j] = o.C; // column j of c_prev is read only here
                            hNew[b * h + j] = o.H;
                            break;
                        }
                        default:
                        {
                            GateReference.GruOut o = GateReference.GruForward(_m,
                                InputSide(l, j, xb, inSize), InputSide(l, h + j, xb, inSize), InputSide(l, 2 * h + j, xb, inSize),
                                HiddenSide(l, j, hb, h), HiddenSide(l, h + j, hb, h), HiddenSide(l, 2 * h + j, hb, h),
                                Bounded.Exact(_bhh[l][j]), Bounded.Exact(_bhh[l][h + j]), Bounded.Exact(_bhh[l][2 * h + j]), hb[j]);
                            hNew[b * h + j] = o.H;
                            break;
                        }
                    }
                }
            }
            H[l] = hNew;
            input = hNew;
            inSize = h;
        }
        var y = new Bounded[_batch * _out];
        for (int b = 0; b < _batch; b++)
            for (int o = 0; o < _out; o++)
            {
                var s = new BoundedSum();
                s.Add(Bounded.Exact(_bout[o]));
                for (int k = 0; k < inSize; k++) s.AddProduct(_wout[o * inSize + k], input[b * inSize + k]);
                y[b * _out + o] = s.Result(_m);
            }
        return y;
    }

    /// <summary>b_ih[row] + b_hh[row] + W_ih[row] · x + W_hh[row] · h as one sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Bounded PreActivation(int l, int row, ReadOnlySpan<Bounded> x, ReadOnlySpan<Bounded> h, int inSize, int hidden, bool bothBiases, bool withHidden)
    {
        var s = new BoundedSum();
        s.Add(Bounded.Exact(_bih[l][row]));
        if (bothBiases) s.Add(Bounded.Exact(_bhh[l][row]));
        for (int k = 0; k < inSize; k++) s.AddProduct(_wih[l][row * inSize + k], x[k]);
        if (withHidden)
            for (int k = 0; k < hidden; k++) s.AddProduct(_whh[l][row * hidden + k], h[k]);
        return s.Result(_m);
    }

    /// <summary>GRU gx[row] = b_ih[row] + W_ih[row] · x.</summary>
    private Bounded InputSide(int l, int row, ReadOnlySpan<Bounded> x, int inSize) => PreActivation(l, row, x, default, inSize, 0, false, false);

    /// <summary>GRU gh[row] = W_hh[row] · h (b_hh is added by the gate math).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Bounded HiddenSide(int l, int row, ReadOnlySpan<Bounded> h, int hidden)
    {
        var s = new BoundedSum();
        for (int k = 0; k < hidden; k++) s.AddProduct(_whh[l][row * hidden + k], h[k]);
        return s.Result(_m);
    }
}
