using Rnn.Simd.Cells;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// An independent, deliberately plain scalar implementation of the recurrent networks of Rnn.Simd in double: stacked
/// Elman (tanh / ReLU / sigmoid), LSTM and GRU layers plus a linear readout, written from the equations (PyTorch
/// formulations) with explicit loops over batch rows, units and inputs, one time step at a time. It is the oracle for
/// <see cref="RecurrentNetwork{T}"/> and <see cref="Rnn.Simd.Training.Bptt.TruncatedBptt{T}"/>: it never calls a library
/// kernel; it only reads the network's weights by name through its <see cref="ParameterLayout"/> and writes gradients
/// back by name in the same layout.
/// </summary>
/// <remarks>
/// Equations, per layer l with input x (the layer below's h, or the network input) and previous state h (, c):
/// <code>
/// Elman:  a = W_ih x + b_ih + W_hh h + b_hh;                 h' = act(a)
/// LSTM:   a = W_ih x + b_ih + W_hh h + b_hh, rows i | f | g | o (H each)
///         i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c' = f c + i g; h' = o tanh(c')
/// GRU:    gx = W_ih x + b_ih, gh = W_hh h + b_hh, rows r | z | n
///         r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r gh_n); h' = (1 - z) n + z h
/// readout y = W_out h_top + b_out
/// </code>
/// The training objective is the one of truncated BPTT(τb, τf): for every window w (ending at step e = (w+1)τf) the
/// mean squared error of its τf new outputs, back-propagated through steps max(0, e - τb) .. e-1, with the state that
/// enters that span held fixed (detached) unless the span starts at step 0, where the initial state is a leaf.
/// </remarks>
public sealed class RecurrentReference
{
    public readonly CellType Cell;
    public readonly Activation Act;
    public readonly int InputSize, OutputSize, Layers, Gates;
    public readonly int[] Hidden;

    // Parameters, [layer][row, column] for matrices (PyTorch shapes: (G·H) x In and (G·H) x H).
    public readonly double[][,] Wih, Whh;
    public readonly double[][] Bih, Bhh;
    public readonly double[,] Wout;
    public readonly double[] Bout;

    public RecurrentReference(CellType cell, Activation act, int inputSize, int[] hidden, int outputSize)
    {
        Cell = cell; Act = act; InputSize = inputSize; OutputSize = outputSize;
        Hidden = (int[])hidden.Clone();
        Layers = hidden.Length;
        Gates = cell switch { CellType.Elman => 1, CellType.Lstm => 4, CellType.Gru => 3, _ => throw new ArgumentOutOfRangeException(nameof(cell)) };
        Wih = new double[Layers][,]; Whh = new double[Layers][,]; Bih = new double[Layers][]; Bhh = new double[Layers][];
        for (int l = 0; l < Layers; l++)
        {
            int h = Hidden[l], gh = Gates * h;
            Wih[l] = new double[gh, LayerInput(l)];
            Whh[l] = new double[gh, h];
            Bih[l] = new double[gh];
            Bhh[l] = new double[gh];
        }
        Wout = new double[outputSize, Hidden[^1]];
        Bout = new double[outputSize];
    }

    public int LayerInput(int l) => l == 0 ? InputSize : Hidden[l - 1];

    /// <summary>Copies the weights of a network (float or double), read slice by slice by PyTorch name.</summary>
    public static RecurrentReference FromNetwork<T>(RecurrentNetwork<T> net) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture a = net.Architecture;
        var hidden = new int[a.NumLayers];
        for (int l = 0; l < hidden.Length; l++) hidden[l] = a.HiddenSizes[l];
        var r = new RecurrentReference(a.Cell, a.Activation, a.InputSize, hidden, a.OutputSize);
        for (int l = 0; l < r.Layers; l++)
        {
            ReadMatrix(net.Parameter($"weight_ih_l{l}"), r.Wih[l]);
            ReadMatrix(net.Parameter($"weight_hh_l{l}"), r.Whh[l]);
            ReadVector(net.Parameter($"bias_ih_l{l}"), r.Bih[l]);
            ReadVector(net.Parameter($"bias_hh_l{l}"), r.Bhh[l]);
        }
        ReadMatrix(net.Parameter("readout.weight"), r.Wout);
        ReadVector(net.Parameter("readout.bias"), r.Bout);
        return r;
    }

    private static void ReadMatrix<T>(Span<T> src, double[,] dst) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        int rows = dst.GetLength(0), cols = dst.GetLength(1);
        if (src.Length != rows * cols) throw new InvalidOperationException($"Slice has {src.Length} elements, expected {rows} x {cols}.");
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                dst[i, j] = double.CreateTruncating(src[i * cols + j]);
    }

    private static void ReadVector<T>(Span<T> src, double[] dst) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        if (src.Length != dst.Length) throw new InvalidOperationException($"Slice has {src.Length} elements, expected {dst.Length}.");
        for (int i = 0; i < dst.Length; i++) dst[i] = double.CreateTruncating(src[i]);
    }

    private static double Sigmoid(double a) => 1.0 / (1.0 + Math.Exp(-a));

    private double Activate(double a) => Act switch
    {
        Activation.Tanh => Math.Tanh(a),
        Activation.Sigmoid => Sigmoid(a),
        Activation.Relu => a > 0 ? a : 0.0,
        _ => throw new InvalidOperationException(),
    };

    private double ActivationDerivative(double a) => Act switch
    {
        Activation.Tanh => 1.0 - Math.Tanh(a) * Math.Tanh(a),
        Activation.Sigmoid => Sigmoid(a) * (1.0 - Sigmoid(a)),
        Activation.Relu => a > 0 ? 1.0 : 0.0,
        _ => throw new InvalidOperationException(),
    };

    // ------------------------------------------------------------------------------------------------ state

    /// <summary>h (and c for LSTM) of every layer: [layer][batch row][unit].</summary>
    public sealed class State
    {
        public readonly double[][][] H, C;

        public State(RecurrentReference r, int batch)
        {
            H = new double[r.Layers][][]; C = new double[r.Layers][][];
            for (int l = 0; l < r.Layers; l++)
            {
                H[l] = new double[batch][]; C[l] = new double[batch][];
                for (int b = 0; b < batch; b++) { H[l][b] = new double[r.Hidden[l]]; C[l][b] = new double[r.Hidden[l]]; }
            }
        }

        private State(double[][][] h, double[][][] c) { H = h; C = c; }

        public int Batch => H[0].Length;

        public State Clone() => new(Copy(H), Copy(C));

        private static double[][][] Copy(double[][][] s)
        {
            var r = new double[s.Length][][];
            for (int l = 0; l < s.Length; l++)
            {
                r[l] = new double[s[l].Length][];
                for (int b = 0; b < s[l].Length; b++) r[l][b] = (double[])s[l][b].Clone();
            }
            return r;
        }

        /// <summary>Reads a library state (B x H row-major per layer).</summary>
        public static State From<T>(RecurrentReference r, NetworkState<T> s) where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
        {
            var st = new State(r, s.BatchSize);
            for (int l = 0; l < r.Layers; l++)
            {
                int h = r.Hidden[l];
                for (int b = 0; b < s.BatchSize; b++)
                    for (int j = 0; j < h; j++)
                    {
                        st.H[l][b][j] = double.CreateTruncating(s.Hidden(l)[b * h + j]);
                        if (r.Cell == CellType.Lstm) st.C[l][b][j] = double.CreateTruncating(s.Cell(l)[b * h + j]);
                    }
            }
            return st;
        }
    }

    /// <summary>What backward needs of one layer at one step, per batch row.</summary>
    private sealed class LayerCache
    {
        public double[][] X = null!, HPrev = null!, CPrev = null!, H = null!, C = null!;
        public double[][] A = null!;   // Elman: pre-activation a; LSTM: activated gates i|f|g|o; GRU: r|z|n
        public double[][] GhN = null!; // GRU: W_hn h + b_hn (what r multiplies)
    }

    private sealed class StepCache
    {
        public LayerCache[] Layers = null!;
        public double[][] Y = null!;
    }

    // ---------------------------------------------------------------------------------------------- forward

    /// <summary>One step for every batch row: x is [batch][InputSize]; advances s and returns the caches.</summary>
    private StepCache StepCore(double[][] x, State s)
    {
        int batch = x.Length;
        var cache = new StepCache { Layers = new LayerCache[Layers], Y = new double[batch][] };
        double[][] input = x;
        for (int l = 0; l < Layers; l++)
        {
            int h = Hidden[l], inSize = LayerInput(l);
            var lc = new LayerCache
            {
                X = input, HPrev = new double[batch][], CPrev = new double[batch][], H = new double[batch][], C = new double[batch][],
                A = new double[batch][], GhN = new double[batch][],
            };
            for (int b = 0; b < batch; b++)
            {
                double[] xb = input[b], hp = s.H[l][b], cp = s.C[l][b];
                lc.HPrev[b] = (double[])hp.Clone();
                lc.CPrev[b] = (double[])cp.Clone();
                var hn = new double[h];
                var cn = new double[h];
                switch (Cell)
                {
                    case CellType.Elman:
                    {
                        var a = new double[h];
                        for (int j = 0; j < h; j++)
                        {
                            double sum = Bih[l][j] + Bhh[l][j];
                            for (int k = 0; k < inSize; k++) sum += Wih[l][j, k] * xb[k];
                            for (int k = 0; k < h; k++) sum += Whh[l][j, k] * hp[k];
                            a[j] = sum;
                            hn[j] = Activate(sum);
                        }
                        lc.A[b] = a;
                        break;
                    }
                    case CellType.Lstm:
                    {
                        var pre = new double[4 * h];
                        for (int row = 0; row < 4 * h; row++)
                        {
                            double sum = Bih[l][row] + Bhh[l][row];
                            for (int k = 0; k < inSize; k++) sum += Wih[l][row, k] * xb[k];
                            for (int k = 0; k < h; k++) sum += Whh[l][row, k] * hp[k];
                            pre[row] = sum;
                        }
                        var act = new double[4 * h];
                        for (int j = 0; j < h; j++)
                        {
                            double i = Sigmoid(pre[j]), f = Sigmoid(pre[h + j]), g = Math.Tanh(pre[2 * h + j]), o = Sigmoid(pre[3 * h + j]);
                            act[j] = i; act[h + j] = f; act[2 * h + j] = g; act[3 * h + j] = o;
                            cn[j] = f * cp[j] + i * g;
                            hn[j] = o * Math.Tanh(cn[j]);
                        }
                        lc.A[b] = act;
                        break;
                    }
                    case CellType.Gru:
                    {
                        var gx = new double[3 * h];
                        var gh = new double[3 * h];
                        for (int row = 0; row < 3 * h; row++)
                        {
                            double sx = Bih[l][row], sh = Bhh[l][row];
                            for (int k = 0; k < inSize; k++) sx += Wih[l][row, k] * xb[k];
                            for (int k = 0; k < h; k++) sh += Whh[l][row, k] * hp[k];
                            gx[row] = sx; gh[row] = sh;
                        }
                        var act = new double[3 * h];
                        var ghn = new double[h];
                        for (int j = 0; j < h; j++)
                        {
                            double r = Sigmoid(gx[j] + gh[j]);
                            double z = Sigmoid(gx[h + j] + gh[h + j]);
                            double n = Math.Tanh(gx[2 * h + j] + r * gh[2 * h + j]);
                            act[j] = r; act[h + j] = z; act[2 * h + j] = n;
                            ghn[j] = gh[2 * h + j];
                            hn[j] = (1 - z) * n + z * hp[j];
                        }
                        lc.A[b] = act;
                        lc.GhN[b] = ghn;
                        break;
                    }
                }
                s.H[l][b] = hn;
                s.C[l][b] = cn;
                lc.H[b] = hn;
                lc.C[b] = cn;
            }
            cache.Layers[l] = lc;
            input = lc.H;
        }
        int top = Hidden[^1];
        for (int b = 0; b < batch; b++)
        {
            var y = new double[OutputSize];
            for (int o = 0; o < OutputSize; o++)
            {
                double sum = Bout[o];
                for (int k = 0; k < top; k++) sum += Wout[o, k] * input[b][k];
                y[o] = sum;
            }
            cache.Y[b] = y;
        }
        return cache;
    }

    private double[][] Slice(double[] flat, int t, int batch, int width)
    {
        var x = new double[batch][];
        for (int b = 0; b < batch; b++)
        {
            x[b] = new double[width];
            for (int k = 0; k < width; k++) x[b][k] = flat[(t * batch + b) * width + k];
        }
        return x;
    }

    /// <summary>Runs a sequence (inputs S x B x I time-major) from state s (advanced in place); returns S x B x O outputs.</summary>
    public double[] Forward(double[] inputs, int batch, State s)
    {
        int steps = inputs.Length / (batch * InputSize);
        var y = new double[steps * batch * OutputSize];
        for (int t = 0; t < steps; t++)
        {
            StepCache c = StepCore(Slice(inputs, t, batch, InputSize), s);
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < OutputSize; o++) y[(t * batch + b) * OutputSize + o] = c.Y[b][o];
        }
        return y;
    }

    /// <summary>Every pre-activation of every Elman unit over a sequence (to show data keeps clear of the ReLU kink).</summary>
    public List<double> ElmanPreActivations(double[] inputs, int batch, State s)
    {
        var all = new List<double>();
        int steps = inputs.Length / (batch * InputSize);
        for (int t = 0; t < steps; t++)
        {
            StepCache c = StepCore(Slice(inputs, t, batch, InputSize), s);
            foreach (LayerCache lc in c.Layers)
                foreach (double[] a in lc.A) all.AddRange(a);
        }
        return all;
    }

    // --------------------------------------------------------------------------------------------- backward

    /// <summary>The gradient of the truncated objective, in the network's layout, and what else it depends on.</summary>
    public sealed class Gradient
    {
        public double Loss;                 // Σ over windows of the window's mean squared error
        public double[] WindowLosses = [];
        public double[][,] DWih = [], DWhh = [];
        public double[][] DBih = [], DBhh = [];
        public double[,] DWout = new double[0, 0];
        public double[] DBout = [];
        public double[] DInputs = [];       // S x B x I
        public double[][] DInitH = [], DInitC = []; // [layer][b·H + j]
        public double[] Outputs = [];       // S x B x O, the forward outputs

        /// <summary>The parameter gradient as one flat vector in the network's layout (each slice found by name).</summary>
        public double[] ToFlat(ParameterLayout layout)
        {
            var flat = new double[layout.TotalLength];
            for (int l = 0; l < DWih.Length; l++)
            {
                Write(layout[$"weight_ih_l{l}"], DWih[l], flat);
                Write(layout[$"weight_hh_l{l}"], DWhh[l], flat);
                Write(layout[$"bias_ih_l{l}"], DBih[l], flat);
                Write(layout[$"bias_hh_l{l}"], DBhh[l], flat);
            }
            Write(layout["readout.weight"], DWout, flat);
            Write(layout["readout.bias"], DBout, flat);
            return flat;
        }

        private static void Write(ParameterSlice s, double[,] m, double[] flat)
        {
            int rows = m.GetLength(0), cols = m.GetLength(1);
            if (s.Rows != rows || s.Columns != cols) throw new InvalidOperationException($"{s.Name} is {s.Rows} x {s.Columns}, reference has {rows} x {cols}.");
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) flat[s.Offset + i * cols + j] = m[i, j];
        }

        private static void Write(ParameterSlice s, double[] v, double[] flat)
        {
            if (s.Length != v.Length) throw new InvalidOperationException($"{s.Name} has {s.Length} elements, reference has {v.Length}.");
            Array.Copy(v, 0, flat, s.Offset, v.Length);
        }
    }

    /// <summary>
    /// The gradient of the BPTT(τb, τf) objective of a whole sequence (inputs S x B x I, targets S x B x O, S a
    /// multiple of τf) from an initial state (null = zero). With τb ≥ S and τf = S this is plain full BPTT. With
    /// target weights (S x B x O, ≥ 0) each window's loss is Σ w (y - target)² / Σ w over its τf new outputs (0 when
    /// Σ w = 0), the mean over the targets that count.
    /// </summary>
    public Gradient TruncatedGradient(double[] inputs, double[] targets, int batch, int backwardSteps, int forwardSteps, State? initial = null, double[]? weights = null)
    {
        int steps = inputs.Length / (batch * InputSize);
        if (steps * batch * InputSize != inputs.Length || steps % forwardSteps != 0 || backwardSteps < forwardSteps)
            throw new ArgumentException("Bad shapes for the reference.");
        State init = initial?.Clone() ?? new State(this, batch);
        var g = new Gradient
        {
            DWih = new double[Layers][,], DWhh = new double[Layers][,], DBih = new double[Layers][], DBhh = new double[Layers][],
            DWout = new double[OutputSize, Hidden[^1]], DBout = new double[OutputSize],
            DInputs = new double[inputs.Length], DInitH = new double[Layers][], DInitC = new double[Layers][],
            WindowLosses = new double[steps / forwardSteps], Outputs = new double[steps * batch * OutputSize],
        };
        for (int l = 0; l < Layers; l++)
        {
            int gh = Gates * Hidden[l];
            g.DWih[l] = new double[gh, LayerInput(l)]; g.DWhh[l] = new double[gh, Hidden[l]];
            g.DBih[l] = new double[gh]; g.DBhh[l] = new double[gh];
            g.DInitH[l] = new double[batch * Hidden[l]];
            g.DInitC[l] = new double[Cell == CellType.Lstm ? batch * Hidden[l] : 0];
        }

        // The states entering every step with the unperturbed parameters: the detached starting points of the spans.
        var detached = new State[steps + 1];
        State run = init.Clone();
        detached[0] = run.Clone();
        for (int t = 0; t < steps; t++)
        {
            StepCache c = StepCore(Slice(inputs, t, batch, InputSize), run);
            detached[t + 1] = run.Clone();
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < OutputSize; o++) g.Outputs[(t * batch + b) * OutputSize + o] = c.Y[b][o];
        }

        for (int w = 0; w < steps / forwardSteps; w++)
        {
            int end = (w + 1) * forwardSteps, start = Math.Max(0, end - backwardSteps);
            State s = detached[start].Clone();
            var caches = new StepCache[end - start];
            for (int t = start; t < end; t++) caches[t - start] = StepCore(Slice(inputs, t, batch, InputSize), s);

            // Loss of the τf new steps: Σ w (y - target)² / N with N = Σ w over them (τf·B·O without weights);
            // dJ/dy = 2 w (y - target) / N.
            double n = 0, loss = 0;
            for (int t = end - forwardSteps; t < end; t++)
                for (int i = 0; i < batch * OutputSize; i++) n += weights is null ? 1 : weights[t * batch * OutputSize + i];
            var dy = new double[end - start][][];
            for (int t = start; t < end; t++)
            {
                dy[t - start] = new double[batch][];
                for (int b = 0; b < batch; b++)
                {
                    dy[t - start][b] = new double[OutputSize];
                    if (t < end - forwardSteps) continue;
                    for (int o = 0; o < OutputSize; o++)
                    {
                        double d = caches[t - start].Y[b][o] - targets[(t * batch + b) * OutputSize + o];
                        double wt = weights is null ? 1 : weights[(t * batch + b) * OutputSize + o];
                        if (n == 0) continue;
                        loss += wt * d * d;
                        dy[t - start][b][o] = 2 * wt * d / n;
                    }
                }
            }
            g.WindowLosses[w] = n == 0 ? 0 : loss / n;
            g.Loss += g.WindowLosses[w];

            // Back through the span, newest step first; at each step top layer first.
            var dhRec = new double[Layers][][];
            var dcRec = new double[Layers][][];
            for (int l = 0; l < Layers; l++)
            {
                dhRec[l] = new double[batch][]; dcRec[l] = new double[batch][];
                for (int b = 0; b < batch; b++) { dhRec[l][b] = new double[Hidden[l]]; dcRec[l][b] = new double[Hidden[l]]; }
            }
            for (int t = end - 1; t >= start; t--)
            {
                StepCache c = caches[t - start];
                int top = Hidden[^1];
                // y = W_out h_top + b_out
                var dAbove = new double[batch][];
                for (int b = 0; b < batch; b++)
                {
                    dAbove[b] = new double[top];
                    for (int o = 0; o < OutputSize; o++)
                    {
                        double d = dy[t - start][b][o];
                        g.DBout[o] += d;
                        for (int k = 0; k < top; k++)
                        {
                            g.DWout[o, k] += d * c.Layers[^1].H[b][k];
                            dAbove[b][k] += Wout[o, k] * d;
                        }
                    }
                }
                for (int l = Layers - 1; l >= 0; l--)
                {
                    LayerCache lc = c.Layers[l];
                    int h = Hidden[l], inSize = LayerInput(l), gh = Gates * h;
                    var dBelow = new double[batch][];
                    for (int b = 0; b < batch; b++)
                    {
                        var dh = new double[h];
                        for (int j = 0; j < h; j++) dh[j] = dAbove[b][j] + dhRec[l][b][j];
                        var dGx = new double[gh]; // gradient of the input-side pre-activation rows (W_ih x + b_ih)
                        var dGh = new double[gh]; // gradient of the hidden-side rows (W_hh h + b_hh)
                        var dhPrev = new double[h];
                        switch (Cell)
                        {
                            case CellType.Elman:
                                // h' = act(a)
                                for (int j = 0; j < h; j++) dGx[j] = dGh[j] = dh[j] * ActivationDerivative(lc.A[b][j]);
                                break;
                            case CellType.Lstm:
                                for (int j = 0; j < h; j++)
                                {
                                    double i = lc.A[b][j], f = lc.A[b][h + j], gg = lc.A[b][2 * h + j], o = lc.A[b][3 * h + j];
                                    double tc = Math.Tanh(lc.C[b][j]);
                                    // h' = o tanh(c')
                                    double dO = dh[j] * tc;
                                    double dC = dcRec[l][b][j] + dh[j] * o * (1 - tc * tc);
                                    // c' = f c + i g
                                    double dI = dC * gg, dF = dC * lc.CPrev[b][j], dG = dC * i;
                                    dcRec[l][b][j] = dC * f;
                                    dGx[j] = dI * i * (1 - i);
                                    dGx[h + j] = dF * f * (1 - f);
                                    dGx[2 * h + j] = dG * (1 - gg * gg);
                                    dGx[3 * h + j] = dO * o * (1 - o);
                                }
                                Array.Copy(dGx, dGh, gh);
                                break;
                            case CellType.Gru:
                                for (int j = 0; j < h; j++)
                                {
                                    double r = lc.A[b][j], z = lc.A[b][h + j], nn = lc.A[b][2 * h + j];
                                    // h' = (1 - z) n + z h
                                    double dN = dh[j] * (1 - z), dZ = dh[j] * (lc.HPrev[b][j] - nn);
                                    dhPrev[j] += dh[j] * z;
                                    // n = tanh(gx_n + r gh_n)
                                    double dAn = dN * (1 - nn * nn);
                                    double dR = dAn * lc.GhN[b][j];
                                    // r = σ(gx_r + gh_r), z = σ(gx_z + gh_z)
                                    double dAr = dR * r * (1 - r), dAz = dZ * z * (1 - z);
                                    dGx[j] = dAr; dGx[h + j] = dAz; dGx[2 * h + j] = dAn;
                                    dGh[j] = dAr; dGh[h + j] = dAz; dGh[2 * h + j] = dAn * r;
                                }
                                break;
                        }
                        double[] x = lc.X[b], hp = lc.HPrev[b];
                        var dx = new double[inSize];
                        for (int row = 0; row < gh; row++)
                        {
                            g.DBih[l][row] += dGx[row];
                            g.DBhh[l][row] += dGh[row];
                            for (int k = 0; k < inSize; k++)
                            {
                                g.DWih[l][row, k] += dGx[row] * x[k];
                                dx[k] += Wih[l][row, k] * dGx[row];
                            }
                            for (int k = 0; k < h; k++)
                            {
                                g.DWhh[l][row, k] += dGh[row] * hp[k];
                                dhPrev[k] += Whh[l][row, k] * dGh[row];
                            }
                        }
                        dhRec[l][b] = dhPrev;
                        dBelow[b] = dx;
                    }
                    if (l == 0)
                    {
                        for (int b = 0; b < batch; b++)
                            for (int k = 0; k < inSize; k++) g.DInputs[(t * batch + b) * inSize + k] += dBelow[b][k];
                    }
                    dAbove = dBelow;
                }
            }
            if (start == 0)
            {
                // The span reaches the stream's first step: what flows out of it is dJ/d(initial state).
                for (int l = 0; l < Layers; l++)
                    for (int b = 0; b < batch; b++)
                        for (int j = 0; j < Hidden[l]; j++)
                        {
                            g.DInitH[l][b * Hidden[l] + j] += dhRec[l][b][j];
                            if (Cell == CellType.Lstm) g.DInitC[l][b * Hidden[l] + j] += dcRec[l][b][j];
                        }
            }
        }
        return g;
    }
}
