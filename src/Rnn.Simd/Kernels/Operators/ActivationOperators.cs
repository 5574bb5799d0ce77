using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.Operators;

/// <summary>
/// tanh. float: the odd 13/6 rational minimax approximation used by Eigen and MLAS, evaluated with FMA, with
/// |x| &gt;= 7.90531 mapped to exactly ±1 (there tanh is within 2.7e-7 of ±1). Max absolute error against double
/// math about 3e-7 over [-30, 30] (tested at &lt;= 1e-6). double: Cephes' rational x + x z P(z)/Q(z) for
/// |x| &lt; 0.625 (full relative accuracy near 0), else (1 - e)/(1 + e) with e = exp(-2|x|); the same formulas on
/// every path. NaN propagates; ±Inf give ±1.
/// </summary>
internal readonly struct TanhOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    // Eigen / MLAS coefficients of p(x) = x * (a1 + a3 x^2 + ... + a13 x^12), q(x) = b0 + b2 x^2 + b4 x^4 + b6 x^6.
    private const float A13 = -2.76076847742355e-16f, A11 = 2.00018790482477e-13f, A9 = -8.60467152213735e-11f,
        A7 = 5.12229709037114e-08f, A5 = 1.48572235717979e-05f, A3 = 6.37261928875436e-04f, A1 = 4.89352455891786e-03f;
    private const float B6 = 1.19825839466702e-06f, B4 = 1.18534705686654e-04f, B2 = 2.26843463243900e-03f, B0 = 4.89352518554385e-03f;

    // double, |x| < 0.625: Cephes tanh.c, tanh(x) = x + x z P(z) / Q(z), z = x².
    private const double CephesThreshold = 0.625;
    private const double CP0 = -9.64399179425052238628e-1, CP1 = -9.92877231001918586564e1, CP2 = -1.61468768441708447952e3;
    private const double CQ0 = 1.12811678491632931402e2, CQ1 = 2.23548839060100448583e3, CQ2 = 4.84406305325125486048e3;

    /// <summary>Beyond this |x| the float result is exactly ±1; the error there is 1 - tanh(7.90531) = 2.7e-7.</summary>
    internal const float Saturation = 7.90531110763549805f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x)
    {
        if (typeof(T) == typeof(float))
        {
            float v = (float)(object)x;
            if (MathF.Abs(v) >= Saturation) return (T)(object)MathF.CopySign(1f, v);
            float x2 = v * v;
            float p = MathF.FusedMultiplyAdd(x2, A13, A11);
            p = MathF.FusedMultiplyAdd(x2, p, A9);
            p = MathF.FusedMultiplyAdd(x2, p, A7);
            p = MathF.FusedMultiplyAdd(x2, p, A5);
            p = MathF.FusedMultiplyAdd(x2, p, A3);
            p = MathF.FusedMultiplyAdd(x2, p, A1);
            p *= v;
            float q = MathF.FusedMultiplyAdd(x2, B6, B4);
            q = MathF.FusedMultiplyAdd(x2, q, B2);
            q = MathF.FusedMultiplyAdd(x2, q, B0);
            return (T)(object)(p / q);
        }
        double d = (double)(object)x, ad = Math.Abs(d);
        if (ad < CephesThreshold)
        {
            double z = d * d;
            double pz = MulAdd(MulAdd(CP0, z, CP1), z, CP2), qz = MulAdd(MulAdd(z + CQ0, z, CQ1), z, CQ2);
            return (T)(object)Math.CopySign(MulAdd(ad * z, pz / qz, ad), d);
        }
        double e = Math.Exp(-2 * ad);
        return (T)(object)Math.CopySign((1 - e) / (1 + e), d);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector512<float> v = x.AsSingle();
            Vector512<float> x2 = v * v;
            Vector512<float> p = Vector512.FusedMultiplyAdd(x2, Vector512.Create(A13), Vector512.Create(A11));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A9));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A7));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A5));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A3));
            p = Vector512.FusedMultiplyAdd(x2, p, Vector512.Create(A1));
            p *= v;
            Vector512<float> q = Vector512.FusedMultiplyAdd(x2, Vector512.Create(B6), Vector512.Create(B4));
            q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B2));
            q = Vector512.FusedMultiplyAdd(x2, q, Vector512.Create(B0));
            Vector512<float> saturated = Vector512.GreaterThanOrEqual(Vector512.Abs(v), Vector512.Create(Saturation));
            return Vector512.ConditionalSelect(saturated, SignedOne(v), p / q).As<float, T>();
        }
        return TanhDouble(x.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> TanhDouble(Vector512<double> x)
    {
        Vector512<double> ax = Vector512.Abs(x), z = x * x;
        // |x| < 0.625: Cephes' x + x·z·P(z)/Q(z) (relative error ~1e-17, no cancellation near 0).
        Vector512<double> p = MulAdd(MulAdd(Vector512.Create(CP0), z, Vector512.Create(CP1)), z, Vector512.Create(CP2));
        Vector512<double> q = MulAdd(MulAdd(z + Vector512.Create(CQ0), z, Vector512.Create(CQ1)), z, Vector512.Create(CQ2));
        Vector512<double> small = MulAdd(ax * z, p / q, ax);
        // Elsewhere (1 - e)/(1 + e) with e = exp(-2|x|); ±∞ gives ±1, NaN propagates. Both from |x|, then the sign of x
        // (so tanh(-0) = -0 and tanh is exactly odd).
        Vector512<double> e = Vector512.Exp(ax * Vector512.Create(-2.0));
        Vector512<double> large = (Vector512<double>.One - e) / (Vector512<double>.One + e);
        return Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(CephesThreshold)), small, large) | (x & Vector512.Create(-0.0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector256<float> v = x.AsSingle();
            Vector256<float> x2 = v * v;
            Vector256<float> p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(A13), Vector256.Create(A11));
            p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A9));
            p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A7));
            p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A5));
            p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A3));
            p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(A1));
            p *= v;
            Vector256<float> q = Vector256.FusedMultiplyAdd(x2, Vector256.Create(B6), Vector256.Create(B4));
            q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B2));
            q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(B0));
            Vector256<float> saturated = Vector256.GreaterThanOrEqual(Vector256.Abs(v), Vector256.Create(Saturation));
            return Vector256.ConditionalSelect(saturated, SignedOne(v), p / q).As<float, T>();
        }
        return TanhDouble(x.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> TanhDouble(Vector256<double> x)
    {
        Vector256<double> ax = Vector256.Abs(x), z = x * x;
        // |x| < 0.625: Cephes' x + x·z·P(z)/Q(z) (relative error ~1e-17, no cancellation near 0).
        Vector256<double> p = MulAdd(MulAdd(Vector256.Create(CP0), z, Vector256.Create(CP1)), z, Vector256.Create(CP2));
        Vector256<double> q = MulAdd(MulAdd(z + Vector256.Create(CQ0), z, Vector256.Create(CQ1)), z, Vector256.Create(CQ2));
        Vector256<double> small = MulAdd(ax * z, p / q, ax);
        // Elsewhere (1 - e)/(1 + e) with e = exp(-2|x|); ±∞ gives ±1, NaN propagates. Both from |x|, then the sign of x
        // (so tanh(-0) = -0 and tanh is exactly odd).
        Vector256<double> e = Vector256.Exp(ax * Vector256.Create(-2.0));
        Vector256<double> large = (Vector256<double>.One - e) / (Vector256<double>.One + e);
        return Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(CephesThreshold)), small, large) | (x & Vector256.Create(-0.0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector128<float> v = x.AsSingle();
            Vector128<float> x2 = v * v;
            Vector128<float> p = MulAdd(x2, Vector128.Create(A13), Vector128.Create(A11));
            p = MulAdd(x2, p, Vector128.Create(A9));
            p = MulAdd(x2, p, Vector128.Create(A7));
            p = MulAdd(x2, p, Vector128.Create(A5));
            p = MulAdd(x2, p, Vector128.Create(A3));
            p = MulAdd(x2, p, Vector128.Create(A1));
            p *= v;
            Vector128<float> q = MulAdd(x2, Vector128.Create(B6), Vector128.Create(B4));
            q = MulAdd(x2, q, Vector128.Create(B2));
            q = MulAdd(x2, q, Vector128.Create(B0));
            Vector128<float> saturated = Vector128.GreaterThanOrEqual(Vector128.Abs(v), Vector128.Create(Saturation));
            return Vector128.ConditionalSelect(saturated, SignedOne(v), p / q).As<float, T>();
        }
        return TanhDouble(x.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<double> TanhDouble(Vector128<double> x)
    {
        Vector128<double> ax = Vector128.Abs(x), z = x * x;
        // |x| < 0.625: Cephes' x + x·z·P(z)/Q(z) (relative error ~1e-17, no cancellation near 0).
        Vector128<double> p = MulAdd(MulAdd(Vector128.Create(CP0), z, Vector128.Create(CP1)), z, Vector128.Create(CP2));
        Vector128<double> q = MulAdd(MulAdd(z + Vector128.Create(CQ0), z, Vector128.Create(CQ1)), z, Vector128.Create(CQ2));
        Vector128<double> small = MulAdd(ax * z, p / q, ax);
        // Elsewhere (1 - e)/(1 + e) with e = exp(-2|x|); ±∞ gives ±1, NaN propagates. Both from |x|, then the sign of x
        // (so tanh(-0) = -0 and tanh is exactly odd).
        Vector128<double> e = Vector128.Exp(ax * Vector128.Create(-2.0));
        Vector128<double> large = (Vector128<double>.One - e) / (Vector128<double>.One + e);
        return Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(CephesThreshold)), small, large) | (x & Vector128.Create(-0.0));
    }
}

/// <summary>
/// Logistic sigmoid σ(x) = 1 / (1 + e^-x). float: σ(x) = 0.5 + 0.5 tanh(x / 2) on the tanh approximation above, so
/// max absolute error about 1.5e-7 over [-30, 30] and exactly 0 / 1 beyond |x| &gt;= 15.81. double: 1 / (1 + exp(-x)).
/// NaN propagates.
/// </summary>
internal readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke(T x)
    {
        if (typeof(T) == typeof(float))
        {
            T half = C<T>(0.5);
            return MulAdd(half, TanhOperator<T>.Invoke(x * half), half);
        }
        return T.One / (T.One + T.Exp(-x));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Invoke(Vector512<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector512<T> half = Vector512.Create(C<T>(0.5));
            return MulAdd(half, TanhOperator<T>.Invoke(x * half), half);
        }
        return Vector512<T>.One / (Vector512<T>.One + Vector512.Exp((-x).AsDouble()).As<double, T>());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Invoke(Vector256<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector256<T> half = Vector256.Create(C<T>(0.5));
            return MulAdd(half, TanhOperator<T>.Invoke(x * half), half);
        }
        return Vector256<T>.One / (Vector256<T>.One + Vector256.Exp((-x).AsDouble()).As<double, T>());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Invoke(Vector128<T> x)
    {
        if (typeof(T) == typeof(float))
        {
            Vector128<T> half = Vector128.Create(C<T>(0.5));
            return MulAdd(half, TanhOperator<T>.Invoke(x * half), half);
        }
        return Vector128<T>.One / (Vector128<T>.One + Vector128.Exp((-x).AsDouble()).As<double, T>());
    }
}

/// <summary>ReLU max(x, 0); NaN propagates, -0 stays -0.</summary>
internal readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T x) => x < T.Zero ? T.Zero : x;
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), Vector512<T>.Zero, x);
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), Vector256<T>.Zero, x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<T>.Zero), Vector128<T>.Zero, x);
}

/// <summary>tanh'(·) from the output y = tanh(a): 1 - y².</summary>
internal readonly struct TanhDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y) => MulAdd(-y, y, T.One);
    public static Vector512<T> Invoke(Vector512<T> y) => MulAdd(-y, y, Vector512<T>.One);
    public static Vector256<T> Invoke(Vector256<T> y) => MulAdd(-y, y, Vector256<T>.One);
    public static Vector128<T> Invoke(Vector128<T> y) => MulAdd(-y, y, Vector128<T>.One);
}

/// <summary>σ'(·) from the output y = σ(a): y (1 - y).</summary>
internal readonly struct SigmoidDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y) => y * (T.One - y);
    public static Vector512<T> Invoke(Vector512<T> y) => y * (Vector512<T>.One - y);
    public static Vector256<T> Invoke(Vector256<T> y) => y * (Vector256<T>.One - y);
    public static Vector128<T> Invoke(Vector128<T> y) => y * (Vector128<T>.One - y);
}

/// <summary>ReLU'(·) from the output y = max(a, 0): 1 where y &gt; 0, else 0; NaN propagates.</summary>
internal readonly struct ReluDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y) => y > T.Zero ? T.One : T.IsNaN(y) ? y : T.Zero;
    public static Vector512<T> Invoke(Vector512<T> y) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), Vector512<T>.One, Vector512.ConditionalSelect(Vector512.Equals(y, y), Vector512<T>.Zero, y));
    public static Vector256<T> Invoke(Vector256<T> y) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<T>.Zero), Vector256<T>.One, Vector256.ConditionalSelect(Vector256.Equals(y, y), Vector256<T>.Zero, y));
    public static Vector128<T> Invoke(Vector128<T> y) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(y, Vector128<T>.Zero), Vector128<T>.One, Vector128.ConditionalSelect(Vector128.Equals(y, y), Vector128<T>.Zero, y));
}

/// <summary>Fused tanh backward: dA = dY (1 - y²), from the output y and the output gradient dY.</summary>
internal readonly struct TanhBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y, T dy) => dy * MulAdd(-y, y, T.One);
    public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * MulAdd(-y, y, Vector512<T>.One);
    public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * MulAdd(-y, y, Vector256<T>.One);
    public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => dy * MulAdd(-y, y, Vector128<T>.One);
}

/// <summary>Fused sigmoid backward: dA = dY y (1 - y).</summary>
internal readonly struct SigmoidBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y, T dy) => dy * (y * (T.One - y));
    public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) => dy * (y * (Vector512<T>.One - y));
    public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) => dy * (y * (Vector256<T>.One - y));
    public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) => dy * (y * (Vector128<T>.One - y));
}

/// <summary>Fused ReLU backward: dA = dY where y &gt; 0, else 0 (selected, so an infinite dY where y &lt;= 0 gives 0; a NaN in y propagates).</summary>
internal readonly struct ReluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static T Invoke(T y, T dy) => y > T.Zero ? dy : T.IsNaN(y) ? y : T.Zero;
    public static Vector512<T> Invoke(Vector512<T> y, Vector512<T> dy) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(y, Vector512<T>.Zero), dy, Vector512.ConditionalSelect(Vector512.Equals(y, y), Vector512<T>.Zero, y));
    public static Vector256<T> Invoke(Vector256<T> y, Vector256<T> dy) =>
        Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256<T>.Zero), dy, Vector256.ConditionalSelect(Vector256.Equals(y, y), Vector256<T>.Zero, y));
    public static Vector128<T> Invoke(Vector128<T> y, Vector128<T> dy) =>
        Vector128.ConditionalSelect(Vector128.GreaterThan(y, Vector128<T>.Zero), dy, Vector128.ConditionalSelect(Vector128.Equals(y, y), Vector128<T>.Zero, y));
}
