using System.Runtime.Intrinsics;

namespace Rnn.Simd.Kernels.Operators;

/// <summary>An element-wise operator <c>f(x)</c> with a scalar form and one form per vector width (TensorPrimitives pattern).</summary>
/// <remarks>All four forms must compute the same function; the scalar form is used for tails shorter than a vector.</remarks>
internal interface IUnaryOperator<T> where T : unmanaged
{
    static abstract T Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>An element-wise operator <c>f(x, y)</c> with a scalar form and one form per vector width.</summary>
internal interface IBinaryOperator<T> where T : unmanaged
{
    static abstract T Invoke(T x, T y);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}
