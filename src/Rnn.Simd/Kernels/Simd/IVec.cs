using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rnn.Simd.Kernels.Simd;

/// <summary>
/// The width abstraction every kernel body is written against: one SIMD register of <see cref="Count"/> lanes of T
/// (float or double), with the operations the kernels use. A kernel is written once as a generic method over
/// <c>TV : IVec&lt;TV, T&gt;</c>; the JIT specialises it per width (<see cref="Vec512{T}"/>, <see cref="Vec256{T}"/>,
/// <see cref="Vec128{T}"/>, and <see cref="Vec1{T}"/>, the scalar "vector" of one lane that serves the scalar path and
/// the tails), inlining every member, so each instantiation compiles to the code a hand-written copy for that width
/// would give (measured: a generic 8 x 2 GEMM micro-kernel runs at the same FMA peak as the hand-written one).
/// </summary>
/// <remarks>
/// Comparisons return lane masks (all bits set or zero) of the same type, as the System.Runtime.Intrinsics vectors
/// do. <see cref="MulAdd"/> is a fused multiply-add wherever the width has one in hardware (on the 128-bit path
/// without FMA it is <c>a * b + c</c>, as before); the scalar width always fuses, like
/// <see cref="MathF.FusedMultiplyAdd"/>. Where the CPU lacks a width, the .NET vector types compute it in software,
/// exactly, so tests can run every width on any machine (see <see cref="Isa.AllowEmulatedPaths"/>).
/// </remarks>
internal unsafe interface IVec<TSelf, T>
    where TSelf : unmanaged, IVec<TSelf, T>
    where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Lanes per register.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>All lanes one.</summary>
    static abstract TSelf One { get; }

    /// <summary>Every lane <paramref name="value"/>.</summary>
    static abstract TSelf Create(T value);

    /// <summary>Loads <see cref="Count"/> elements from <paramref name="source"/> (no alignment needed).</summary>
    static abstract TSelf Load(T* source);

    /// <summary>T = double only: loads <see cref="Count"/> floats and widens them to double.</summary>
    static abstract TSelf LoadWidening(float* source);

    /// <summary>Stores the lanes to <paramref name="destination"/>.</summary>
    void Store(T* destination);

    /// <summary>Lane-wise sum.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);

    /// <summary>Lane-wise difference.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>Lane-wise product.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);

    /// <summary>Lane-wise quotient (IEEE division).</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary>Lane-wise negation (flips the sign bit).</summary>
    static abstract TSelf operator -(TSelf a);

    /// <summary>Bitwise and.</summary>
    static abstract TSelf operator &(TSelf a, TSelf b);

    /// <summary>Bitwise or.</summary>
    static abstract TSelf operator |(TSelf a, TSelf b);

    /// <summary>Bitwise exclusive or.</summary>
    static abstract TSelf operator ^(TSelf a, TSelf b);

    /// <summary>a · b + c, fused where the width has a hardware FMA (see the remarks of the interface).</summary>
    static abstract TSelf MulAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>|x| (clears the sign bit).</summary>
    static abstract TSelf Abs(TSelf x);

    /// <summary>Square root, correctly rounded.</summary>
    static abstract TSelf Sqrt(TSelf x);

    /// <summary>e^x (the .NET vector Exp; <see cref="Math.Exp"/> on the scalar width).</summary>
    static abstract TSelf Exp(TSelf x);

    /// <summary>The hardware minimum: a &lt; b ? a : b on x86 (the second operand where either is NaN).</summary>
    static abstract TSelf MinNative(TSelf a, TSelf b);

    /// <summary>The hardware maximum: a &gt; b ? a : b on x86 (the second operand where either is NaN).</summary>
    static abstract TSelf MaxNative(TSelf a, TSelf b);

    /// <summary>The IEEE 754:2019 minimum (NaN propagates, -0 &lt; +0), as <see cref="Math.Min(double, double)"/>.</summary>
    static abstract TSelf Min(TSelf a, TSelf b);

    /// <summary>Mask of the lanes whose sign bit is set (negative numbers, -0, negative NaN).</summary>
    static abstract TSelf IsNegative(TSelf x);

    /// <summary>Mask of a &lt; b.</summary>
    static abstract TSelf LessThan(TSelf a, TSelf b);

    /// <summary>Mask of a &gt; b.</summary>
    static abstract TSelf GreaterThan(TSelf a, TSelf b);

    /// <summary>Mask of a &gt;= b.</summary>
    static abstract TSelf GreaterThanOrEqual(TSelf a, TSelf b);

    /// <summary>Mask of a == b (false for NaN).</summary>
    static abstract TSelf EqualsMask(TSelf a, TSelf b);

    /// <summary>Bitwise (a &amp; mask) | (b &amp; ~mask).</summary>
    static abstract TSelf ConditionalSelect(TSelf mask, TSelf a, TSelf b);

    /// <summary>Bitwise a &amp; ~b.</summary>
    static abstract TSelf AndNot(TSelf a, TSelf b);

    /// <summary>Sum of the lanes (the .NET vector's own reduction order).</summary>
    static abstract T Sum(TSelf v);
}

/// <summary>A kernel written once over the width abstraction; <see cref="IsaDispatch"/> runs it on one path.</summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>A job is a struct holding its arguments, so dispatch is one switch and the call into the width-specialised
/// body is direct (the JIT specialises generic methods over struct type arguments).</remarks>
internal interface IVecJob<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Runs the kernel on width TV.</summary>
    void Run<TV>() where TV : unmanaged, IVec<TV, T>;
}

/// <summary>The one place that maps an <see cref="IsaPath"/> to a width: every kernel entry point dispatches here.</summary>
internal static class IsaDispatch
{
    /// <summary>Runs <paramref name="job"/> on the width of <paramref name="path"/>, which must be resolved (not Auto).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<T, TJob>(IsaPath path, ref TJob job)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TJob : struct, IVecJob<T>
    {
        switch (path)
        {
            case IsaPath.Vector512: job.Run<Vec512<T>>(); break;
            case IsaPath.Vector256: job.Run<Vec256<T>>(); break;
            case IsaPath.Vector128: job.Run<Vec128<T>>(); break;
            default: job.Run<Vec1<T>>(); break;
        }
    }

    /// <summary>Lanes of one register of T on <paramref name="path"/> (1 for the scalar path); path must be resolved.</summary>
    public static int Lanes<T>(IsaPath path) where T : unmanaged, IBinaryFloatingPointIeee754<T> => path switch
    {
        IsaPath.Vector512 => Vec512<T>.Count,
        IsaPath.Vector256 => Vec256<T>.Count,
        IsaPath.Vector128 => Vec128<T>.Count,
        _ => 1,
    };
}
