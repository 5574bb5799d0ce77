namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// The gate math of one LSTM / GRU unit, written from the PyTorch formulas on <see cref="Bounded"/> values: the oracle
/// of the fused gate kernels and, inside <see cref="BoundedNetworkReference"/>, of whole steps. Never calls the library.
/// </summary>
public static class GateReference
{
    public readonly record struct LstmOut(Bounded I, Bounded F, Bounded G, Bounded O, Bounded C, Bounded TanhC, Bounded H);

    /// <summary>
    /// i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c = f c_prev + i g; h = o tanh(c).
    /// </summary>
    public static LstmOut LstmForward(ErrorModel m, Bounded ai, Bounded af, Bounded ag, Bounded ao, Bounded cPrev)
    {
        Bounded i = m.Sigmoid(ai), f = m.Sigmoid(af), g = m.Tanh(ag), o = m.Sigmoid(ao);
        Bounded c = m.Add(m.Mul(f, cPrev), m.Mul(i, g));
        Bounded tc = m.Tanh(c);
        return new(i, f, g, o, c, tc, m.Mul(o, tc));
    }

    public readonly record struct LstmGrad(Bounded DI, Bounded DF, Bounded DG, Bounded DO, Bounded DCPrev);

    /// <summary>
    /// Derivatives of the forward above with respect to the pre-activations a_i, a_f, a_g, a_o and to c_prev, given
    /// the saved activations (i, f, g, o, tanh c), c_prev, dJ/dh and the gradient dJ/dc arriving from step t + 1.
    /// </summary>
    public static LstmGrad LstmBackward(ErrorModel m, Bounded i, Bounded f, Bounded g, Bounded o, Bounded cPrev, Bounded tanhC, Bounded dh, Bounded dcNext)
    {
        // h = o tanh(c): dJ/dc = dcNext + dh o (1 − tanh² c); dJ/do = dh tanh c
        Bounded dc = m.Add(dcNext, m.Mul(m.Mul(dh, o), m.OneMinus(m.Mul(tanhC, tanhC))));
        Bounded dO = m.Mul(dh, tanhC);
        // c = f c_prev + i g
        Bounded dI = m.Mul(dc, g), dF = m.Mul(dc, cPrev), dG = m.Mul(dc, i);
        // σ' = σ (1 − σ), tanh' = 1 − tanh²
        return new(
            m.Mul(dI, m.Mul(i, m.OneMinus(i))),
            m.Mul(dF, m.Mul(f, m.OneMinus(f))),
            m.Mul(dG, m.OneMinus(m.Mul(g, g))),
            m.Mul(dO, m.Mul(o, m.OneMinus(o))),
            m.Mul(dc, f));
    }

    public readonly record struct GruOut(Bounded R, Bounded Z, Bounded N, Bounded GhnPlusBias, Bounded H);

    /// <summary>
    /// r = σ(gx_r + gh_r + b_hr), z = σ(gx_z + gh_z + b_hz), n = tanh(gx_n + r (gh_n + b_hn)), h = (1 − z) n + z h_prev,
    /// with gx = W_ih x + b_ih and gh = W_hh h_prev (without its bias).
    /// </summary>
    public static GruOut GruForward(ErrorModel m, Bounded gxr, Bounded gxz, Bounded gxn, Bounded ghr, Bounded ghz, Bounded ghn,
        Bounded br, Bounded bz, Bounded bn, Bounded hPrev)
    {
        Bounded r = m.Sigmoid(m.Add(m.Add(gxr, ghr), br));
        Bounded z = m.Sigmoid(m.Add(m.Add(gxz, ghz), bz));
        Bounded hn = m.Add(ghn, bn);
        Bounded n = m.Tanh(m.Add(gxn, m.Mul(r, hn)));
        Bounded h = m.Add(m.Mul(m.OneMinus(z), n), m.Mul(z, hPrev));
        return new(r, z, n, hn, h);
    }

    public readonly record struct GruGrad(Bounded DR, Bounded DZ, Bounded DN, Bounded DGhN, Bounded DHPrev);

    /// <summary>
    /// Derivatives of the forward above given the saved r, z, n, W_hn h + b_hn and h_prev and dJ/dh: the
    /// pre-activation gradients of r, z and of n's input side (DR, DZ, DN), of n's hidden side (DGhN = DN · r) and
    /// the direct part of dJ/dh_prev (dh · z; the part through W_hh is the caller's product).
    /// </summary>
    public static GruGrad GruBackward(ErrorModel m, Bounded r, Bounded z, Bounded n, Bounded ghnPlusBias, Bounded hPrev, Bounded dh)
    {
        // h = (1 − z) n + z h_prev
        Bounded dn = m.Mul(dh, m.OneMinus(z));
        Bounded dz = m.Mul(dh, m.Sub(hPrev, n));
        // n = tanh(a_n), a_n = gx_n + r · ghn
        Bounded dan = m.Mul(dn, m.OneMinus(m.Mul(n, n)));
        Bounded dr = m.Mul(dan, ghnPlusBias);
        return new(
            m.Mul(dr, m.Mul(r, m.OneMinus(r))),
            m.Mul(dz, m.Mul(z, m.OneMinus(z))),
            dan,
            m.Mul(dan, r),
            m.Mul(dh, z));
    }
}
