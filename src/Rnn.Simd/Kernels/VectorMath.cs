using System.Numerics;
using System.Numerics.Tensors;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Kernels;

/// <summary>
/// Element-wise kernels and reductions over spans of float or double.
/// </summary>
/// <remarks>
/// <para>
/// Every method overwrites <c>destination[0 .. x.Length)</c> and leaves the rest of a longer destination untouched.
/// A destination may be the very same span as an input (in place) or not overlap it at all; a partial overlap throws
/// <see cref="ArgumentException"/>, as does a destination shorter than the input. Nothing allocates.
/// </para>
/// <para>
/// The activation kernels (<see cref="Tanh{T}"/>, <see cref="Sigmoid{T}"/>, <see cref="Relu{T}"/>), their
/// derivatives and fused backward forms are written here and take an <see cref="IsaPath"/> so that every path can be
/// exercised. The plain arithmetic and reductions (<see cref="Add{T}"/>, <see cref="Multiply{T}"/>,
/// <see cref="Axpy{T}"/>, <see cref="Scale{T}"/>, <see cref="Sum{T}"/>, <see cref="Dot{T}"/>,
/// <see cref="SumOfSquares{T}"/>) delegate to <see cref="TensorPrimitives"/>, which is already as fast as the memory
/// allows for them; a hand-written copy would earn nothing.
/// </para>
/// </remarks>
public static class VectorMath
{
    /// <summary>destination[i] = tanh(x[i]).</summary>
    /// <remarks>
    /// float: the odd 13/6 rational minimax approximation of Eigen / MLAS, exactly ±1 for |x| ≥ 7.90531; max absolute
    /// error against double-precision tanh at most 1e-6 over [-30, 30] (about 3e-7 measured). double: Cephes'
    /// rational x + x·z·P(z)/Q(z) (z = x²) for |x| &lt; 0.625, which keeps full relative accuracy near 0, and
    /// (1 - e)/(1 + e) with e = exp(-2|x|) elsewhere; within a few ulp. NaN propagates; ±∞ gives ±1. The scalar forms
    /// use the same formulas as the vector forms; float results are bitwise equal on every path and at every position
    /// (double ones may differ in the last bit, where the vector exp differs from Math.Exp).
    /// </remarks>
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, TanhOperator<T>>(x, destination, path);

    /// <summary>destination[i] = σ(x[i]) = 1 / (1 + e^(-x[i])).</summary>
    /// <remarks>
    /// float: 0.5 + 0.5·tanh(x/2) on the tanh approximation, so max absolute error at most 1e-6 over [-30, 30]
    /// (about 1.5e-7 measured) and exactly 0 or 1 for |x| ≥ 15.82. double: 1 / (1 + exp(-x)). NaN propagates.
    /// </remarks>
    public static void Sigmoid<T>(ReadOnlySpan<T> x, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, SigmoidOperator<T>>(x, destination, path);

    /// <summary>destination[i] = max(x[i], 0). Exact; NaN propagates.</summary>
    public static void Relu<T>(ReadOnlySpan<T> x, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, ReluOperator<T>>(x, destination, path);

    /// <summary>destination[i] = 1 - y[i]², the derivative of tanh expressed from its output y = tanh(a).</summary>
    public static void TanhDerivative<T>(ReadOnlySpan<T> y, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, TanhDerivativeOperator<T>>(y, destination, path);

    /// <summary>destination[i] = y[i] (1 - y[i]), the derivative of σ expressed from its output y = σ(a).</summary>
    public static void SigmoidDerivative<T>(ReadOnlySpan<T> y, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, SigmoidDerivativeOperator<T>>(y, destination, path);

    /// <summary>destination[i] = 1 where y[i] &gt; 0, else 0: the derivative of ReLU from its output (0 at the kink). NaN propagates.</summary>
    public static void ReluDerivative<T>(ReadOnlySpan<T> y, Span<T> destination, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Unary<T, ReluDerivativeOperator<T>>(y, destination, path);

    /// <summary>Fused tanh backward: dInput[i] = dOutput[i] (1 - y[i]²), where y = tanh(input). Overwrites dInput.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dOutput, Span<T> dInput, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Binary<T, TanhBackwardOperator<T>>(y, dOutput, dInput, path, nameof(y), nameof(dOutput), nameof(dInput));

    /// <summary>Fused sigmoid backward: dInput[i] = dOutput[i] y[i] (1 - y[i]), where y = σ(input). Overwrites dInput.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dOutput, Span<T> dInput, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Binary<T, SigmoidBackwardOperator<T>>(y, dOutput, dInput, path, nameof(y), nameof(dOutput), nameof(dInput));

    /// <summary>Fused ReLU backward: dInput[i] = dOutput[i] where y[i] &gt; 0, else 0 (selected, not multiplied). Overwrites dInput.</summary>
    public static void ReluBackward<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> dOutput, Span<T> dInput, IsaPath path = IsaPath.Auto)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => ElementwiseDriver.Binary<T, ReluBackwardOperator<T>>(y, dOutput, dInput, path, nameof(y), nameof(dOutput), nameof(dInput));

    /// <summary>destination[i] = x[i] + y[i] (TensorPrimitives). x and y must have the same length.</summary>
    public static void Add<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(nameof(y), x.Length, y.Length);
        TensorPrimitives.Add(x, y, destination);
    }

    /// <summary>destination[i] = x[i] · y[i] (TensorPrimitives). x and y must have the same length.</summary>
    public static void Multiply<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(nameof(y), x.Length, y.Length);
        TensorPrimitives.Multiply(x, y, destination);
    }

    /// <summary>y[i] += alpha · x[i] (BLAS axpy; accumulates into y). x and y must have the same length.</summary>
    public static void Axpy<T>(T alpha, ReadOnlySpan<T> x, Span<T> y)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(nameof(y), x.Length, y.Length);
        TensorPrimitives.MultiplyAdd(x, alpha, y, y);
    }

    /// <summary>destination[i] = alpha · x[i] (TensorPrimitives).</summary>
    public static void Scale<T>(T alpha, ReadOnlySpan<T> x, Span<T> destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => TensorPrimitives.Multiply(x, alpha, destination);

    /// <summary>Sets every element of destination to value.</summary>
    public static void Fill<T>(T value, Span<T> destination)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => destination.Fill(value);

    /// <summary>Σ x[i] (TensorPrimitives; 0 for an empty span). The summation order depends on the vector width, so
    /// the last bits can differ between machines, never between runs on one machine.</summary>
    public static T Sum<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => TensorPrimitives.Sum(x);

    /// <summary>Σ x[i] · y[i] (TensorPrimitives). x and y must have the same length.</summary>
    public static T Dot<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(nameof(y), x.Length, y.Length);
        return TensorPrimitives.Dot(x, y);
    }

    /// <summary>Σ x[i]² (TensorPrimitives): the squared L2 norm, used for global-norm gradient clipping.</summary>
    public static T SumOfSquares<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        => TensorPrimitives.SumOfSquares(x);
}
