using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Operators;

/// <summary>An element-wise operator <c>f(x)</c>, written once over the width abstraction (TensorPrimitives pattern,
/// one body for every width including the scalar one).</summary>
internal interface IUnaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    static abstract TV Invoke<TV>(TV x) where TV : unmanaged, IVec<TV, T>;
}

/// <summary>An element-wise operator <c>f(x, y)</c>, written once over the width abstraction.</summary>
internal interface IBinaryOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    static abstract TV Invoke<TV>(TV x, TV y) where TV : unmanaged, IVec<TV, T>;
}

/// <summary>Scalar calls of the operators (the scalar width, so the same formula as every vector lane).</summary>
internal static class ScalarOp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T, TOp>(T x) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IUnaryOperator<T>
        => TOp.Invoke(Vec1<T>.Create(x)).Value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Invoke<T, TOp>(T x, T y) where T : unmanaged, IBinaryFloatingPointIeee754<T> where TOp : IBinaryOperator<T>
        => TOp.Invoke(Vec1<T>.Create(x), Vec1<T>.Create(y)).Value;
}
