using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Rnn.Simd.Kernels.Simd;

/// <summary>
/// The scalar width: one lane, held in the low lane of a 128-bit register (the upper lanes zero) so that masks,
/// selects and bit operations have exactly the vector semantics. It runs the scalar path and the tails shorter than a
/// register, with the same formulas as the wide paths, so a value computed in a tail equals the value a full register
/// would give. <see cref="MulAdd"/> always fuses (in software where the CPU has no FMA), like
/// <see cref="MathF.FusedMultiplyAdd"/>.
/// </summary>
internal readonly unsafe struct Vec1<T> : IVec<Vec1<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The register; only lane 0 is meaningful.</summary>
    public readonly Vector128<T> V;

    /// <summary>Wraps a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vec1(Vector128<T> v) => V = v;

    /// <summary>Lane 0.</summary>
    public T Value => V.ToScalar();

    public static int Count => 1;
    public static Vec1<T> Zero => new(Vector128<T>.Zero);
    public static Vec1<T> One => new(Vector128.CreateScalar(T.One));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Create(T value) => new(Vector128.CreateScalar(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Load(T* source) => new(Vector128.CreateScalar(*source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> LoadWidening(float* source) => new(Vector128.CreateScalar((double)*source).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(T* destination) => *destination = V.ToScalar();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator +(Vec1<T> a, Vec1<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator -(Vec1<T> a, Vec1<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator *(Vec1<T> a, Vec1<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator /(Vec1<T> a, Vec1<T> b) => new(Vector128.CreateScalar(a.V.ToScalar() / b.V.ToScalar()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator -(Vec1<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator &(Vec1<T> a, Vec1<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator |(Vec1<T> a, Vec1<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> operator ^(Vec1<T> a, Vec1<T> b) => new(a.V ^ b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> MulAdd(Vec1<T> a, Vec1<T> b, Vec1<T> c) => new(Vector128.CreateScalar(T.FusedMultiplyAdd(a.V.ToScalar(), b.V.ToScalar(), c.V.ToScalar())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Abs(Vec1<T> x) => new(Vector128.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Sqrt(Vec1<T> x) => new(Vector128.CreateScalar(T.Sqrt(x.V.ToScalar())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Exp(Vec1<T> x) => new(Vector128.CreateScalar(T.Exp(x.V.ToScalar())));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> MinNative(Vec1<T> a, Vec1<T> b) => new(Vector128.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> MaxNative(Vec1<T> a, Vec1<T> b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> Min(Vec1<T> a, Vec1<T> b) => new(Vector128.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> IsNegative(Vec1<T> x) => new(Vector128.IsNegative(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> LessThan(Vec1<T> a, Vec1<T> b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> GreaterThan(Vec1<T> a, Vec1<T> b) => new(Vector128.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> GreaterThanOrEqual(Vec1<T> a, Vec1<T> b) => new(Vector128.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> EqualsMask(Vec1<T> a, Vec1<T> b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> ConditionalSelect(Vec1<T> mask, Vec1<T> a, Vec1<T> b) => new(Vector128.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec1<T> AndNot(Vec1<T> a, Vec1<T> b) => new(Vector128.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vec1<T> v) => v.V.ToScalar();
}
