using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;
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
    public static TV Invoke<TV>(TV x) where TV : unmanaged, IVec<TV, T>
    {
        if (typeof(T) == typeof(float))
        {
            TV x2 = x * x;
            TV p = TV.MulAdd(x2, TV.Create(C<T>(A13)), TV.Create(C<T>(A11)));
            p = TV.MulAdd(x2, p, TV.Create(C<T>(A9)));
            p = TV.MulAdd(x2, p, TV.Create(C<T>(A7)));
            p = TV.MulAdd(x2, p, TV.Create(C<T>(A5)));
            p = TV.MulAdd(x2, p, TV.Create(C<T>(A3)));
            p = TV.MulAdd(x2, p, TV.Create(C<T>(A1)));
            p *= x;
            TV q = TV.MulAdd(x2, TV.Create(C<T>(B6)), TV.Create(C<T>(B4)));
            q = TV.MulAdd(x2, q, TV.Create(C<T>(B2)));
            q = TV.MulAdd(x2, q, TV.Create(C<T>(B0)));
            TV saturated = TV.GreaterThanOrEqual(TV.Abs(x), TV.Create(C<T>(Saturation)));
            return TV.ConditionalSelect(saturated, SignedOne(x), p / q);
        }
        TV ax = TV.Abs(x), z = x * x;
        // |x| < 0.625: Cephes' x + x·z·P(z)/Q(z) (relative error ~1e-17, no cancellation near 0).
        TV pz = TV.MulAdd(TV.MulAdd(TV.Create(C<T>(CP0)), z, TV.Create(C<T>(CP1))), z, TV.Create(C<T>(CP2)));
        TV qz = TV.MulAdd(TV.MulAdd(z + TV.Create(C<T>(CQ0)), z, TV.Create(C<T>(CQ1))), z, TV.Create(C<T>(CQ2)));
        TV small = TV.MulAdd(ax * z, pz / qz, ax);
        // Elsewhere (1 - e)/(1 + e) with e = exp(-2|x|); ±∞ gives ±1, NaN propagates. Both from |x|, then the sign of x
        // (so tanh(-0) = -0 and tanh is exactly odd).
        TV e = TV.Exp(ax * TV.Create(C<T>(-2.0)));
        TV large = (TV.One - e) / (TV.One + e);
        return TV.ConditionalSelect(TV.LessThan(ax, TV.Create(C<T>(CephesThreshold))), small, large) | (x & TV.Create(C<T>(-0.0)));
    }

    /// <summary>+1 with the sign of x (x = NaN gives ±1 by its sign bit).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV SignedOne<TV>(TV x) where TV : unmanaged, IVec<TV, T> => (x & TV.Create(C<T>(-0.0))) | TV.One;
}

/// <summary>
/// Logistic sigmoid σ(x) = 1 / (1 + e^-x). float: σ(x) = 0.5 + 0.5 tanh(x / 2) on the tanh approximation above, so
/// max absolute error about 1.5e-7 over [-30, 30] and exactly 0 / 1 beyond |x| &gt;= 15.81. double: 1 / (1 + exp(-x)).
/// NaN propagates.
/// </summary>
internal readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV x) where TV : unmanaged, IVec<TV, T>
    {
        if (typeof(T) == typeof(float))
        {
            TV half = TV.Create(C<T>(0.5));
            return TV.MulAdd(half, TanhOperator<T>.Invoke(x * half), half);
        }
        return TV.One / (TV.One + TV.Exp(-x));
    }
}

/// <summary>ReLU max(x, 0); NaN propagates, -0 stays -0.</summary>
internal readonly struct ReluOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV x) where TV : unmanaged, IVec<TV, T> => TV.ConditionalSelect(TV.LessThan(x, TV.Zero), TV.Zero, x);
}

/// <summary>tanh'(·) from the output y = tanh(a): 1 - y².</summary>
internal readonly struct TanhDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y) where TV : unmanaged, IVec<TV, T> => TV.MulAdd(-y, y, TV.One);
}

/// <summary>σ'(·) from the output y = σ(a): y (1 - y).</summary>
internal readonly struct SigmoidDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y) where TV : unmanaged, IVec<TV, T> => y * (TV.One - y);
}

/// <summary>ReLU'(·) from the output y = max(a, 0): 1 where y &gt; 0, else 0; NaN propagates.</summary>
internal readonly struct ReluDerivativeOperator<T> : IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y) where TV : unmanaged, IVec<TV, T> =>
        TV.ConditionalSelect(TV.GreaterThan(y, TV.Zero), TV.One, TV.ConditionalSelect(TV.EqualsMask(y, y), TV.Zero, y));
}

/// <summary>Fused tanh backward: dA = dY (1 - y²), from the output y and the output gradient dY.</summary>
internal readonly struct TanhBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y, TV dy) where TV : unmanaged, IVec<TV, T> => dy * TV.MulAdd(-y, y, TV.One);
}

/// <summary>Fused sigmoid backward: dA = dY y (1 - y).</summary>
internal readonly struct SigmoidBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y, TV dy) where TV : unmanaged, IVec<TV, T> => dy * (y * (TV.One - y));
}

/// <summary>Fused ReLU backward: dA = dY where y &gt; 0, else 0 (selected, so an infinite dY where y &lt;= 0 gives 0; a NaN in y propagates).</summary>
internal readonly struct ReluBackwardOperator<T> : IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Invoke<TV>(TV y, TV dy) where TV : unmanaged, IVec<TV, T> =>
        TV.ConditionalSelect(TV.GreaterThan(y, TV.Zero), dy, TV.ConditionalSelect(TV.EqualsMask(y, y), TV.Zero, y));
}
