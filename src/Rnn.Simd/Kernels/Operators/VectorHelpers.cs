using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Rnn.Simd.Kernels.Operators;

/// <summary>
/// Generic vector helpers whose <c>typeof(T)</c> branches the JIT folds away, so one operator body serves float and
/// double.
/// </summary>
internal static class VectorHelpers
{
    /// <summary>True when the 128-bit path has a hardware FMA; without one, <c>a * b + c</c> is used instead of a slow software FMA.</summary>
    public static readonly bool HasFma128 = Fma.IsSupported || AdvSimd.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T MulAdd<T>(T a, T b, T c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (T)(object)MathF.FusedMultiplyAdd((float)(object)a, (float)(object)b, (float)(object)c);
        if (typeof(T) == typeof(double)) return (T)(object)Math.FusedMultiplyAdd((double)(object)a, (double)(object)b, (double)(object)c);
        ThrowHelper.ThrowTypeNotSupported<T>();
        return default;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MulAdd<T>(Vector128<T> a, Vector128<T> b, Vector128<T> c) where T : unmanaged
    {
        if (HasFma128)
        {
            if (typeof(T) == typeof(float)) return Vector128.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
            if (typeof(T) == typeof(double)) return Vector128.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        }
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MulAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector256.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector256.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MulAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    /// <summary>Converts a double constant to T (float or double).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T C<T>(double value) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (T)(object)(float)value;
        if (typeof(T) == typeof(double)) return (T)(object)value;
        ThrowHelper.ThrowTypeNotSupported<T>();
        return default;
    }

    /// <summary>Throws <see cref="NotSupportedException"/> unless T is float or double; folds to nothing for those.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EnsureSupported<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double)) ThrowHelper.ThrowTypeNotSupported<T>();
    }

    /// <summary>True for float and double, the element types the kernels support.</summary>
    public static bool IsSupportedType<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double);
}
