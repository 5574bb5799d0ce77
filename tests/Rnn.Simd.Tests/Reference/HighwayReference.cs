namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// An independent scalar double implementation of a stacked recurrent highway network (Zilly et al. 2017, Sec. 3,
/// coupled carry c = 1 - t) with a linear readout, written from the equations with plain loops; it never calls the
/// library. Per layer, with x the layer input and s_0 = h_(t-1): for m = 1 .. L
/// <code>
/// a_m = [m = 1]·(W x + b_ih + b_hh) + R_m s_(m-1) + [m &gt; 1]·b_m      (rows: h̃ block then t block, H each)
/// h̃ = tanh(a_m,H), t = σ(a_m,T), s_m = h̃ t + s_(m-1) (1 - t);  h_t = s_L;  y = W_out h_top + b_out
/// </code>
/// The forward runs a sequence; the backward is full BPTT of J = Σ_t Σ_b Σ_o p_tbo y_tbo for a fixed probe p, the
/// gradient w.r.t. every parameter (weights read by the caller in the library's layout names).
/// </summary>
public sealed class HighwayReference
{
    public readonly int Input, Output, Depth;
    public readonly int[] Hidden;
    public readonly double[][,] W;          // [layer] 2H x I
    public readonly double[][][,] R;        // [layer][m] 2H x H
    public readonly double[][][] B;         // [layer][m] 2H (m = 0 holds b_ih + b_hh)
    public readonly double[,] Wout;
    public readonly double[] Bout;

    public HighwayReference(int input, int[] hidden, int output, int depth)
    {
        Input = input; Output = output; Depth = depth; Hidden = (int[])hidden.Clone();
        int layers = hidden.Length;
        W = new double[layers][,]; R = new double[layers][][,]; B = new double[layers][][];
        for (int l = 0; l < layers; l++)
        {
            int h = hidden[l], i = l == 0 ? input : hidden[l - 1];
            W[l] = new double[2 * h, i];
            R[l] = new double[depth][,]; B[l] = new double[depth][];
            for (int m = 0; m < depth; m++) { R[l][m] = new double[2 * h, h]; B[l][m] = new double[2 * h]; }
        }
        Wout = new double[output, hidden[^1]];
        Bout = new double[output];
    }

    private static double Sigmoid(double a) => 1.0 / (1.0 + Math.Exp(-a));

    /// <summary>Per step, batch row, layer: the states s_0 .. s_L and the activations (h̃, t) of each micro-layer.</summary>
    public sealed class Trace
    {
        public double[][][][][] S = null!;   // [t][b][l][m] s_m, m = 0..L
        public double[][][][][] Hc = null!;  // [t][b][l][m] h̃ of micro-layer m+1
        public double[][][][][] Tg = null!;  // [t][b][l][m] t of micro-layer m+1
        public double[][][][] X = null!;     // [t][b][l] layer input
        public double[][][] Y = null!;       // [t][b] outputs
    }

    /// <summary>Runs x ([t][b][I]) from zero state; returns the outputs and everything the backward needs.</summary>
    public Trace Forward(double[][][] x)
    {
        int steps = x.Length, batch = x[0].Length, layers = Hidden.Length;
        var tr = new Trace { S = new double[steps][][][][], Hc = new double[steps][][][][], Tg = new double[steps][][][][], X = new double[steps][][][], Y = new double[steps][][] };
        var h = new double[batch][][];
        for (int b = 0; b < batch; b++) { h[b] = new double[layers][]; for (int l = 0; l < layers; l++) h[b][l] = new double[Hidden[l]]; }
        for (int t = 0; t < steps; t++)
        {
            tr.S[t] = new double[batch][][][]; tr.Hc[t] = new double[batch][][][]; tr.Tg[t] = new double[batch][][][]; tr.X[t] = new double[batch][][]; tr.Y[t] = new double[batch][];
            for (int b = 0; b < batch; b++)
            {
                tr.S[t][b] = new double[layers][][]; tr.Hc[t][b] = new double[layers][][]; tr.Tg[t][b] = new double[layers][][]; tr.X[t][b] = new double[layers][];
                double[] input = x[t][b];
                for (int l = 0; l < layers; l++)
                {
                    int hs = Hidden[l];
                    tr.X[t][b][l] = input;
                    var s = new double[Depth + 1][]; var hc = new double[Depth][]; var tg = new double[Depth][];
                    s[0] = (double[])h[b][l].Clone();
                    for (int m = 0; m < Depth; m++)
                    {
                        hc[m] = new double[hs]; tg[m] = new double[hs]; s[m + 1] = new double[hs];
                        for (int j = 0; j < hs; j++)
                        {
                            double aH = B[l][m][j], aT = B[l][m][hs + j];
                            if (m == 0)
                                for (int k = 0; k < input.Length; k++) { aH += W[l][j, k] * input[k]; aT += W[l][hs + j, k] * input[k]; }
                            for (int k = 0; k < hs; k++) { aH += R[l][m][j, k] * s[m][k]; aT += R[l][m][hs + j, k] * s[m][k]; }
                            hc[m][j] = Math.Tanh(aH); tg[m][j] = Sigmoid(aT);
                            s[m + 1][j] = hc[m][j] * tg[m][j] + s[m][j] * (1 - tg[m][j]);
                        }
                    }
                    tr.S[t][b][l] = s; tr.Hc[t][b][l] = hc; tr.Tg[t][b][l] = tg;
                    h[b][l] = s[Depth];
                    input = s[Depth];
                }
                var y = new double[Output];
                for (int o = 0; o < Output; o++)
                {
                    double sum = Bout[o];
                    for (int k = 0; k < Hidden[^1]; k++) sum += Wout[o, k] * input[k];
                    y[o] = sum;
                }
                tr.Y[t][b] = y;
            }
        }
        return tr;
    }

    /// <summary>Gradients of J = Σ p·y, in the reference's own arrays (same shapes as the parameters).</summary>
    public sealed class Grad
    {
        public double[][,] W = null!;
        public double[][][,] R = null!;
        public double[][][] B = null!;
        public double[,] Wout = null!;
        public double[] Bout = null!;
    }

    /// <summary>Full BPTT of J = Σ_t Σ_b Σ_o probe[t][b][o]·y[t][b][o] through the trace.</summary>
    public Grad Backward(Trace tr, double[][][] probe)
    {
        int steps = tr.Y.Length, batch = tr.Y[0].Length, layers = Hidden.Length, top = Hidden[^1];
        var g = new Grad { W = new double[layers][,], R = new double[layers][][,], B = new double[layers][][], Wout = new double[Output, top], Bout = new double[Output] };
        for (int l = 0; l < layers; l++)
        {
            g.W[l] = new double[W[l].GetLength(0), W[l].GetLength(1)];
            g.R[l] = new double[Depth][,]; g.B[l] = new double[Depth][];
            for (int m = 0; m < Depth; m++) { g.R[l][m] = new double[2 * Hidden[l], Hidden[l]]; g.B[l][m] = new double[2 * Hidden[l]]; }
        }
        for (int b = 0; b < batch; b++)
        {
            var dhNext = new double[layers][];
            for (int l = 0; l < layers; l++) dhNext[l] = new double[Hidden[l]];
            for (int t = steps - 1; t >= 0; t--)
            {
                // readout: y = W_out h_top + b_out
                var dAbove = new double[top];
                double[] htop = tr.S[t][b][layers - 1][Depth];
                for (int o = 0; o < Output; o++)
                {
                    double p = probe[t][b][o];
                    g.Bout[o] += p;
                    for (int k = 0; k < top; k++) { g.Wout[o, k] += p * htop[k]; dAbove[k] += p * Wout[o, k]; }
                }
                for (int l = layers - 1; l >= 0; l--)
                {
                    int hs = Hidden[l];
                    var ds = new double[hs];
                    for (int j = 0; j < hs; j++) ds[j] = dAbove[j] + dhNext[l][j];
                    double[] xin = tr.X[t][b][l];
                    var dx = new double[xin.Length];
                    for (int m = Depth - 1; m >= 0; m--)
                    {
                        double[] sPrev = tr.S[t][b][l][m], hc = tr.Hc[t][b][l][m], tg = tr.Tg[t][b][l][m];
                        var da = new double[2 * hs];
                        var dsPrev = new double[hs];
                        for (int j = 0; j < hs; j++)
                        {
                            // s = h̃ t + s_prev (1 - t)
                            da[j] = ds[j] * tg[j] * (1 - hc[j] * hc[j]);
                            da[hs + j] = ds[j] * (hc[j] - sPrev[j]) * tg[j] * (1 - tg[j]);
                            dsPrev[j] = ds[j] * (1 - tg[j]);
                        }
                        for (int r = 0; r < 2 * hs; r++)
                        {
                            g.B[l][m][r] += da[r];
                            for (int k = 0; k < hs; k++) { g.R[l][m][r, k] += da[r] * sPrev[k]; dsPrev[k] += da[r] * R[l][m][r, k]; }
                            if (m == 0)
                                for (int k = 0; k < xin.Length; k++) { g.W[l][r, k] += da[r] * xin[k]; dx[k] += da[r] * W[l][r, k]; }
                        }
                        ds = dsPrev;
                    }
                    dhNext[l] = ds;
                    dAbove = dx;
                }
            }
        }
        return g;
    }
}
