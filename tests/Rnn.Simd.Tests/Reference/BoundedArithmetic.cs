using Rnn.Simd.Cells;

namespace Rnn.Simd.Tests.Reference;

/// <summary>
/// A reference value <see cref="V"/>, computed in double from exact inputs, with <see cref="E"/>: a bound on
/// |x − V| for the value x that a computation of the same expression in float or double arrives at (running error
/// analysis: each operation adds the rounding it may commit and passes on the error of its operands, scaled by how
/// much the operation can amplify it). See <see cref="ErrorModel"/> for the constants.
/// </summary>
public readonly record struct Bounded(double V, double E)
{
    /// <summary>An input both sides hold exactly (a value already rounded to T).</summary>
    public static Bounded Exact(double v) => new(v, 0);
}

/// <summary>
/// The arithmetic of <see cref="Bounded"/> for one element type T. Per rounding: u = u_T + u_double (the computation
/// in T rounds, and so does the reference in double). Per activation (σ, tanh): the documented absolute accuracy of
/// the library's vector activations (<c>VectorMath</c>'s XML docs: float within 1e-6 over [-30, 30]; double "within
/// a few ulp", taken as 4 ulp of 1) plus 2 u_double for the reference's own Math.Tanh / Math.Exp.
/// </summary>
/// <remarks>
/// The bound is first order plus the product of operand errors: for an addition E = E_a + E_b + u (|a| + |b|) (the
/// rounding charged on the operands' magnitudes, not on the possibly cancelled sum, so that another evaluation order
/// of the same expression, such as n + z (h − n) for (1 − z) n + z h, stays covered); for a product
/// E = |a| E_b + |b| E_a + E_a E_b + u |ab|; a fused multiply-add is charged as a product and a sum (it rounds once
/// less). σ and tanh pass on their operand's error times the largest derivative over [V − E, V + E] (mean value
/// theorem). A sum of n terms in any order (GEMM blocking, FMA chains, TensorPrimitives' reductions) is charged
/// γ_{2n}(u) · Σ |terms|, γ_n = n u / (1 − n u).
/// </remarks>
public sealed class ErrorModel
{
    private static readonly double UDouble = Math.ScaleB(1.0, -53);

    /// <summary>float: u = 2^-24, activations within 1e-6.</summary>
    public static readonly ErrorModel Float = new("float", Math.ScaleB(1.0, -24), 1e-6);

    /// <summary>double: u = 2^-53, activations within 4 ulp of 1 = 2^-50.</summary>
    public static readonly ErrorModel Double = new("double", Math.ScaleB(1.0, -53), Math.ScaleB(1.0, -50));

    private ErrorModel(string name, double unitRoundoff, double activationError)
    {
        Name = name;
        U = unitRoundoff + UDouble;
        ActivationError = activationError + 2 * UDouble;
    }

    public static ErrorModel For<T>() => typeof(T) == typeof(float) ? Float : Double;

    public string Name { get; }

    /// <summary>Bound on the relative error of one rounding, the T side's and the reference's together.</summary>
    public double U { get; }

    /// <summary>Bound on the absolute error of one σ or tanh of an exact operand, the T side's and the reference's together.</summary>
    public double ActivationError { get; }

    /// <summary>γ_n = n u / (1 − n u).</summary>
    public double Gamma(int n) => n * U / (1 - n * U);

    public Bounded Add(Bounded a, Bounded b) =>
        new(a.V + b.V, a.E + b.E + U * (Math.Abs(a.V) + Math.Abs(b.V)));

    public Bounded Sub(Bounded a, Bounded b) =>
        new(a.V - b.V, a.E + b.E + U * (Math.Abs(a.V) + Math.Abs(b.V)));

    public Bounded Mul(Bounded a, Bounded b)
    {
        double v = a.V * b.V;
        return new(v, Math.Abs(a.V) * b.E + Math.Abs(b.V) * a.E + a.E * b.E + U * Math.Abs(v));
    }

    /// <summary>1 − a (1 is exact).</summary>
    public Bounded OneMinus(Bounded a) => Sub(Bounded.Exact(1), a);

    /// <summary>σ(a) = 1 / (1 + e^-a).</summary>
    public Bounded Sigmoid(Bounded a)
    {
        double s0 = Logistic(ClosestToZero(a));
        return new(Logistic(a.V), s0 * (1 - s0) * a.E + ActivationError);
    }

    public Bounded Tanh(Bounded a)
    {
        double t0 = Math.Tanh(ClosestToZero(a));
        return new(Math.Tanh(a.V), (1 - t0 * t0) * a.E + ActivationError);
    }

    /// <summary>max(a, 0): exact, 1-Lipschitz.</summary>
    public static Bounded Relu(Bounded a) => new(Math.Max(a.V, 0), a.E);

    public Bounded Activate(Activation act, Bounded a) => act switch
    {
        Activation.Tanh => Tanh(a),
        Activation.Sigmoid => Sigmoid(a),
        Activation.Relu => Relu(a),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    private static double Logistic(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>The point of [V − E, V + E] nearest 0, where σ' and tanh' are largest.</summary>
    private static double ClosestToZero(Bounded a) => a.V - a.E > 0 ? a.V - a.E : a.V + a.E < 0 ? a.V + a.E : 0;
}

/// <summary>
/// A sum of terms (products of an exact weight and a bounded value, or bounded values) summed by the T side in an
/// order the reference does not know: charged γ_{2n}(u) · Σ |terms| for n terms, plus the propagated errors.
/// </summary>
public struct BoundedSum
{
    private double _value, _error, _magnitude;
    private int _terms;

    public void Add(Bounded t)
    {
        _value += t.V;
        _error += t.E;
        _magnitude += Math.Abs(t.V) + t.E;
        _terms++;
    }

    /// <summary>Adds w · x for an exact w (a weight, already rounded to T).</summary>
    public void AddProduct(double w, Bounded x)
    {
        _value += w * x.V;
        _error += Math.Abs(w) * x.E;
        _magnitude += Math.Abs(w) * (Math.Abs(x.V) + x.E);
        _terms++;
    }

    public readonly Bounded Result(ErrorModel m) => new(_value, _error + m.Gamma(2 * Math.Max(_terms, 1)) * _magnitude);
}
