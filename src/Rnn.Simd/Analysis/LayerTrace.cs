using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Analysis;

/// <summary>
/// One layer's forward over a whole sequence (batch 1) in double, keeping every activation its per-step state
/// Jacobian J_t = ∂s_t/∂s_(t-1) needs (chapter Eq. 2.10), and that Jacobian applied to vectors: <see cref="Jvp"/>
/// (J_t v) and <see cref="Vjp"/> (J_tᵀ u), so a product of k factors is never formed (nothing H x H·k is stored).
/// The state s is h (H) for Elman and GRU and [h; c] (2H, h first) for LSTM. The input from the layer below is held
/// fixed: J_t is the layer's own recurrence.
/// </summary>
internal abstract class LayerTrace
{
    protected LayerTrace(int steps, int input, int hidden, int gates, double[] wih, double[] whh, double[] bih, double[] bhh)
    {
        Steps = steps; InputSize = input; Hidden = hidden; GateCount = gates;
        Wih = wih; Whh = whh; Bih = bih; Bhh = bhh;
        HOut = new double[steps * hidden];
        Scratch = new double[gates * hidden];
        Scratch2 = new double[gates * hidden];
        // W_hhᵀ (H x G·H) and W_hh (G·H x H) packed for the batched products, as the cells pack them.
        _whhT = new PackedMatrix<double>(hidden, gates * hidden);
        _whhT.Pack(Transpose.Transposed, whh, hidden);
        _whh = new PackedMatrix<double>(gates * hidden, hidden);
        _whh.Pack(Transpose.None, whh, hidden);
    }

    private readonly PackedMatrix<double> _whhT;
    private readonly PackedMatrix<double> _whh;
    private double[] _batchIn = [];
    private double[] _batchGates = [];

    public int Steps { get; }
    public int InputSize { get; }
    public int Hidden { get; }
    public int GateCount { get; }
    /// <summary>Elements of the state s: H, or 2H for LSTM ([h; c]).</summary>
    public virtual int StateSize => Hidden;
    protected double[] Wih { get; }
    /// <summary>weight_hh in double, (G·H) x H row-major.</summary>
    public double[] Whh { get; }
    protected double[] Bih { get; }
    protected double[] Bhh { get; }
    /// <summary>h_t of every step, T x H: the next layer's input and the readout's.</summary>
    public double[] HOut { get; }
    protected double[] Scratch { get; }
    protected double[] Scratch2 { get; }

    public ReadOnlySpan<double> H(int t) => HOut.AsSpan(t * Hidden, Hidden);

    /// <summary>Runs the layer over T x I inputs from the zero state, storing what the Jacobians need.</summary>
    public abstract void Run(ReadOnlySpan<double> inputs);

    /// <summary>result = J_t v, v and result of <see cref="StateSize"/> (distinct spans).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Jvp(int t, ReadOnlySpan<double> v, Span<double> result)
    {
        Span<double> da = Scratch2.AsSpan(0, GateCount * Hidden);
        RecurrentTimes(0, GateCount * Hidden, v.Slice(0, Hidden), da);
        JvpFinish(t, v, da, result);
    }

    /// <summary>result = J_tᵀ u, u and result of <see cref="StateSize"/> (distinct spans).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Vjp(int t, ReadOnlySpan<double> u, Span<double> result)
    {
        Span<double> ab = Scratch2.AsSpan(0, GateCount * Hidden);
        VjpStart(t, u, ab, result);
        RecurrentTransposeTimes(0, GateCount * Hidden, ab, result.Slice(0, Hidden));
    }

    /// <summary>results[i] = J_t vectors[i] for i &lt; count: one GEMM (count x H) · W_hhᵀ over the library's packed
    /// kernel for all of them (the batch the power iteration and the gradient norms run), then the elementwise part
    /// per vector. Each vector and its result are distinct arrays of <see cref="StateSize"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void JvpMany(int t, double[][] vectors, double[][] results, int count)
    {
        if (count == 0) return;
        int rows = GateCount * Hidden, h = Hidden;
        EnsureBatch(count);
        for (int i = 0; i < count; i++) vectors[i].AsSpan(0, h).CopyTo(_batchIn.AsSpan(i * h, h));
        Gemm.Multiply(Transpose.None, count, 1.0, _batchIn.AsSpan(0, count * h), h, _whhT, 0.0, _batchGates.AsSpan(0, count * rows), rows);
        for (int i = 0; i < count; i++) JvpFinish(t, vectors[i], _batchGates.AsSpan(i * rows, rows), results[i]);
    }

    /// <summary>results[i] = J_tᵀ vectors[i] for i &lt; count: the elementwise part per vector, then one GEMM
    /// (count x G·H) · W_hh (see <see cref="JvpMany"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void VjpMany(int t, double[][] vectors, double[][] results, int count)
    {
        if (count == 0) return;
        int rows = GateCount * Hidden, h = Hidden;
        EnsureBatch(count);
        for (int i = 0; i < count; i++) VjpStart(t, vectors[i], _batchGates.AsSpan(i * rows, rows), results[i]);
        Gemm.Multiply(Transpose.None, count, 1.0, _batchGates.AsSpan(0, count * rows), rows, _whh, 0.0, _batchIn.AsSpan(0, count * h), h);
        for (int i = 0; i < count; i++) TensorPrimitives.Add(results[i].AsSpan(0, h), _batchIn.AsSpan(i * h, h), results[i].AsSpan(0, h));
    }

    private void EnsureBatch(int count)
    {
        if (_batchIn.Length >= count * Hidden) return;
        _batchIn = new double[count * Hidden];
        _batchGates = new double[count * GateCount * Hidden];
    }

    /// <summary>The elementwise rest of J_t v given da = W_hh v_h (G·H): writes result.</summary>
    protected abstract void JvpFinish(int t, ReadOnlySpan<double> v, ReadOnlySpan<double> da, Span<double> result);

    /// <summary>The elementwise start of J_tᵀ u: writes ā (G·H, what W_hhᵀ multiplies) and result (its h part the
    /// direct term the W_hhᵀ ā product is added to, zero when there is none).</summary>
    protected abstract void VjpStart(int t, ReadOnlySpan<double> u, Span<double> ab, Span<double> result);

    /// <summary>Fractions of saturated units over every step, one entry per activation of the cell.</summary>
    public abstract IReadOnlyList<GateSaturation> Saturation();

    /// <summary>The pre-activation a = b_ih (+ b_hh) + W_ih x_t into <paramref name="a"/> (G·H).</summary>
    protected void InputProjection(ReadOnlySpan<double> x, Span<double> a, bool addRecurrentBias)
    {
        for (int r = 0; r < GateCount * Hidden; r++)
            a[r] = Bih[r] + (addRecurrentBias ? Bhh[r] : 0) + TensorPrimitives.Dot(Wih.AsSpan(r * InputSize, InputSize), x);
    }

    /// <summary>y = W_hh[rows r0 .. r0+n) · v (overwrite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void RecurrentTimes(int r0, int n, ReadOnlySpan<double> v, Span<double> y)
    {
        for (int r = 0; r < n; r++) y[r] = TensorPrimitives.Dot(Whh.AsSpan((r0 + r) * Hidden, Hidden), v);
    }

    /// <summary>y += W_hh[rows r0 .. r0+n)ᵀ · u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void RecurrentTransposeTimes(int r0, int n, ReadOnlySpan<double> u, Span<double> y)
    {
        for (int r = 0; r < n; r++)
            if (u[r] != 0) TensorPrimitives.MultiplyAdd(Whh.AsSpan((r0 + r) * Hidden, Hidden), u[r], y, y);
    }

    protected static double Sigmoid(double a) => 1 / (1 + Math.Exp(-a));

    /// <summary>Saturation thresholds: |tanh| &gt; 0.99, σ outside [0.01, 0.99].</summary>
    protected static double TanhSaturated(ReadOnlySpan<double> y, int stride, int offset, int n)
    {
        long count = 0, all = 0;
        for (int s = 0; s + offset < y.Length; s += stride)
            for (int j = 0; j < n; j++, all++) if (Math.Abs(y[s + offset + j]) > 0.99) count++;
        return all == 0 ? 0 : (double)count / all;
    }

    protected static double SigmoidSaturated(ReadOnlySpan<double> y, int stride, int offset, int n)
    {
        long count = 0, all = 0;
        for (int s = 0; s + offset < y.Length; s += stride)
            for (int j = 0; j < n; j++, all++) { double v = y[s + offset + j]; if (v < 0.01 || v > 0.99) count++; }
        return all == 0 ? 0 : (double)count / all;
    }

    public static LayerTrace Create(CellType cell, Activation activation, int steps, int input, int hidden, double[] wih, double[] whh, double[] bih, double[] bhh) =>
        cell switch
        {
            CellType.Elman => new ElmanTrace(activation, steps, input, hidden, wih, whh, bih, bhh),
            CellType.Lstm => new LstmTrace(steps, input, hidden, wih, whh, bih, bhh),
            CellType.Gru => new GruTrace(steps, input, hidden, wih, whh, bih, bhh),
            _ => throw new NotSupportedException($"Gradient-flow analysis has no Jacobian for {cell} cells yet."),
        };
}

/// <summary>Elman: h_t = act(a_t), a_t = W_ih x_t + b + W_hh h_(t-1); J_t = diag(act'(a_t)) · W_hh.</summary>
internal sealed class ElmanTrace : LayerTrace
{
    private readonly Activation _activation;
    private readonly double[] _d; // act'(a_t), T x H

    public ElmanTrace(Activation activation, int steps, int input, int hidden, double[] wih, double[] whh, double[] bih, double[] bhh)
        : base(steps, input, hidden, 1, wih, whh, bih, bhh)
    {
        _activation = activation;
        _d = new double[steps * hidden];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<double> inputs)
    {
        int h = Hidden;
        Span<double> a = Scratch.AsSpan(0, h), rec = Scratch2.AsSpan(0, h);
        for (int t = 0; t < Steps; t++)
        {
            InputProjection(inputs.Slice(t * InputSize, InputSize), a, addRecurrentBias: true);
            if (t > 0) { RecurrentTimes(0, h, H(t - 1), rec); TensorPrimitives.Add(a, rec, a); }
            Span<double> ht = HOut.AsSpan(t * h, h), dt = _d.AsSpan(t * h, h);
            for (int j = 0; j < h; j++)
            {
                double y;
                switch (_activation)
                {
                    case Activation.Relu: y = Math.Max(a[j], 0); dt[j] = a[j] > 0 ? 1 : 0; break;
                    case Activation.Sigmoid: y = Sigmoid(a[j]); dt[j] = y * (1 - y); break;
                    default: y = Math.Tanh(a[j]); dt[j] = 1 - y * y; break;
                }
                ht[j] = y;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void JvpFinish(int t, ReadOnlySpan<double> v, ReadOnlySpan<double> da, Span<double> result) =>
        TensorPrimitives.Multiply(da, _d.AsSpan(t * Hidden, Hidden), result);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void VjpStart(int t, ReadOnlySpan<double> u, Span<double> ab, Span<double> result)
    {
        TensorPrimitives.Multiply(u.Slice(0, Hidden), _d.AsSpan(t * Hidden, Hidden), ab);
        result.Slice(0, Hidden).Clear();
    }

    public override IReadOnlyList<GateSaturation> Saturation() => _activation switch
    {
        Activation.Relu => [new GateSaturation("h", "relu: a <= 0 (zero derivative)", ReluDead())],
        Activation.Sigmoid => [new GateSaturation("h", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(HOut, Hidden, 0, Hidden))],
        _ => [new GateSaturation("h", "|tanh| > 0.99", TanhSaturated(HOut, Hidden, 0, Hidden))],
    };

    private double ReluDead()
    {
        long dead = 0;
        foreach (double d in _d) if (d == 0) dead++;
        return _d.Length == 0 ? 0 : (double)dead / _d.Length;
    }
}

/// <summary>
/// LSTM (i, f, g, o), state s = [h; c]. JVP: δa = W_hh δh_(t-1); δi = i(1-i)δa_i, δf = f(1-f)δa_f, δg = (1-g²)δa_g,
/// δo = o(1-o)δa_o; δc_t = δf c_(t-1) + f δc_(t-1) + δi g + i δg; δh_t = δo tanh c_t + o (1 - tanh² c_t) δc_t.
/// VJP: c̄ = c̄_t + h̄_t o (1 - tanh² c_t); ā_o = h̄_t tanh c_t o(1-o), ā_i = c̄ g i(1-i), ā_g = c̄ i (1-g²),
/// ā_f = c̄ c_(t-1) f(1-f); c̄_(t-1) = c̄ f; h̄_(t-1) = W_hhᵀ ā.
/// </summary>
internal sealed class LstmTrace : LayerTrace
{
    private readonly double[] _gates; // T x 4H activated i, f, g, o
    private readonly double[] _cPrev; // T x H
    private readonly double[] _tanhC; // T x H

    public LstmTrace(int steps, int input, int hidden, double[] wih, double[] whh, double[] bih, double[] bhh)
        : base(steps, input, hidden, 4, wih, whh, bih, bhh)
    {
        _gates = new double[steps * 4 * hidden];
        _cPrev = new double[steps * hidden];
        _tanhC = new double[steps * hidden];
    }

    public override int StateSize => 2 * Hidden;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<double> inputs)
    {
        int h = Hidden, g4 = 4 * h;
        Span<double> rec = Scratch2.AsSpan(0, g4);
        double[] c = new double[h];
        for (int t = 0; t < Steps; t++)
        {
            Span<double> a = _gates.AsSpan(t * g4, g4);
            InputProjection(inputs.Slice(t * InputSize, InputSize), a, addRecurrentBias: true);
            if (t > 0) { RecurrentTimes(0, g4, H(t - 1), rec); TensorPrimitives.Add(a, rec, a); }
            c.CopyTo(_cPrev.AsSpan(t * h, h));
            Span<double> ht = HOut.AsSpan(t * h, h), tc = _tanhC.AsSpan(t * h, h);
            for (int j = 0; j < h; j++)
            {
                double i = Sigmoid(a[j]), f = Sigmoid(a[h + j]), g = Math.Tanh(a[2 * h + j]), o = Sigmoid(a[3 * h + j]);
                a[j] = i; a[h + j] = f; a[2 * h + j] = g; a[3 * h + j] = o;
                c[j] = f * c[j] + i * g;
                tc[j] = Math.Tanh(c[j]);
                ht[j] = o * tc[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void JvpFinish(int t, ReadOnlySpan<double> v, ReadOnlySpan<double> da, Span<double> result)
    {
        int h = Hidden;
        ReadOnlySpan<double> gt = _gates.AsSpan(t * 4 * h, 4 * h), cp = _cPrev.AsSpan(t * h, h), tc = _tanhC.AsSpan(t * h, h);
        for (int j = 0; j < h; j++)
        {
            double i = gt[j], f = gt[h + j], g = gt[2 * h + j], o = gt[3 * h + j];
            double di = i * (1 - i) * da[j], df = f * (1 - f) * da[h + j], dg = (1 - g * g) * da[2 * h + j], dov = o * (1 - o) * da[3 * h + j];
            double dc = df * cp[j] + f * v[h + j] + di * g + i * dg;
            result[j] = dov * tc[j] + o * (1 - tc[j] * tc[j]) * dc;
            result[h + j] = dc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void VjpStart(int t, ReadOnlySpan<double> u, Span<double> ab, Span<double> result)
    {
        int h = Hidden;
        ReadOnlySpan<double> gt = _gates.AsSpan(t * 4 * h, 4 * h), cp = _cPrev.AsSpan(t * h, h), tc = _tanhC.AsSpan(t * h, h);
        for (int j = 0; j < h; j++)
        {
            double i = gt[j], f = gt[h + j], g = gt[2 * h + j], o = gt[3 * h + j];
            double hb = u[j], cb = u[h + j] + hb * o * (1 - tc[j] * tc[j]);
            ab[j] = cb * g * i * (1 - i);
            ab[h + j] = cb * cp[j] * f * (1 - f);
            ab[2 * h + j] = cb * i * (1 - g * g);
            ab[3 * h + j] = hb * tc[j] * o * (1 - o);
            result[h + j] = cb * f;
            result[j] = 0;
        }
    }

    public override IReadOnlyList<GateSaturation> Saturation()
    {
        int h = Hidden;
        return
        [
            new GateSaturation("i", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(_gates, 4 * h, 0, h)),
            new GateSaturation("f", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(_gates, 4 * h, h, h)),
            new GateSaturation("g", "|tanh| > 0.99", TanhSaturated(_gates, 4 * h, 2 * h, h)),
            new GateSaturation("o", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(_gates, 4 * h, 3 * h, h)),
            new GateSaturation("tanh(c)", "|tanh| > 0.99", TanhSaturated(_tanhC, h, 0, h)),
        ];
    }
}

/// <summary>
/// GRU (r, z, n; PyTorch): r = σ(a_r), z = σ(a_z), m = W_hn h_(t-1) + b_hn, n = tanh(a_n^x + r ⊙ m),
/// h_t = (1 - z) ⊙ n + z ⊙ h_(t-1). JVP: δr = r(1-r) W_hr δh, δz = z(1-z) W_hz δh, δn = (1-n²)(δr ⊙ m + r ⊙ W_hn δh),
/// δh_t = δz ⊙ (h_(t-1) - n) + (1-z) ⊙ δn + z ⊙ δh. VJP: n̄ = ū(1-z)(1-n²); ā_r = n̄ m r(1-r); ā_z = ū (h_(t-1) - n) z(1-z);
/// h̄_(t-1) = z ū + W_hrᵀ ā_r + W_hzᵀ ā_z + W_hnᵀ (r n̄).
/// </summary>
internal sealed class GruTrace : LayerTrace
{
    private readonly double[] _gates; // T x 3H: r, z, n
    private readonly double[] _m;     // T x H: W_hn h_(t-1) + b_hn

    public GruTrace(int steps, int input, int hidden, double[] wih, double[] whh, double[] bih, double[] bhh)
        : base(steps, input, hidden, 3, wih, whh, bih, bhh)
    {
        _gates = new double[steps * 3 * hidden];
        _m = new double[steps * hidden];
    }

    private ReadOnlySpan<double> HPrev(int t) => t == 0 ? new double[Hidden] : H(t - 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Run(ReadOnlySpan<double> inputs)
    {
        int h = Hidden, g3 = 3 * h;
        Span<double> rec = Scratch2.AsSpan(0, g3);
        double[] zero = new double[h];
        for (int t = 0; t < Steps; t++)
        {
            Span<double> a = _gates.AsSpan(t * g3, g3);
            InputProjection(inputs.Slice(t * InputSize, InputSize), a, addRecurrentBias: false);
            ReadOnlySpan<double> hp = t == 0 ? zero : H(t - 1);
            RecurrentTimes(0, g3, hp, rec);
            TensorPrimitives.Add(rec, Bhh, rec);
            Span<double> ht = HOut.AsSpan(t * h, h), m = _m.AsSpan(t * h, h);
            for (int j = 0; j < h; j++)
            {
                double r = Sigmoid(a[j] + rec[j]), z = Sigmoid(a[h + j] + rec[h + j]);
                m[j] = rec[2 * h + j];
                double n = Math.Tanh(a[2 * h + j] + r * m[j]);
                a[j] = r; a[h + j] = z; a[2 * h + j] = n;
                ht[j] = (1 - z) * n + z * hp[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void JvpFinish(int t, ReadOnlySpan<double> v, ReadOnlySpan<double> d, Span<double> result)
    {
        int h = Hidden;
        ReadOnlySpan<double> gt = _gates.AsSpan(t * 3 * h, 3 * h), m = _m.AsSpan(t * h, h), hp = HPrev(t);
        for (int j = 0; j < h; j++)
        {
            double r = gt[j], z = gt[h + j], n = gt[2 * h + j];
            double dr = r * (1 - r) * d[j], dz = z * (1 - z) * d[h + j];
            double dn = (1 - n * n) * (dr * m[j] + r * d[2 * h + j]);
            result[j] = dz * (hp[j] - n) + (1 - z) * dn + z * v[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void VjpStart(int t, ReadOnlySpan<double> u, Span<double> ab, Span<double> result)
    {
        int h = Hidden;
        ReadOnlySpan<double> gt = _gates.AsSpan(t * 3 * h, 3 * h), m = _m.AsSpan(t * h, h), hp = HPrev(t);
        for (int j = 0; j < h; j++)
        {
            double r = gt[j], z = gt[h + j], n = gt[2 * h + j];
            double nb = u[j] * (1 - z) * (1 - n * n);
            ab[j] = nb * m[j] * r * (1 - r);
            ab[h + j] = u[j] * (hp[j] - n) * z * (1 - z);
            ab[2 * h + j] = nb * r;
            result[j] = z * u[j];
        }
    }

    public override IReadOnlyList<GateSaturation> Saturation()
    {
        int h = Hidden;
        return
        [
            new GateSaturation("r", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(_gates, 3 * h, 0, h)),
            new GateSaturation("z", "sigmoid outside [0.01, 0.99]", SigmoidSaturated(_gates, 3 * h, h, h)),
            new GateSaturation("n", "|tanh| > 0.99", TanhSaturated(_gates, 3 * h, 2 * h, h)),
        ];
    }
}
