using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Kernels.Simd;

// The three register widths, generated from one template (so they cannot drift apart): each member forwards to the
// System.Runtime.Intrinsics operation of the same name. Vec1 (the scalar width) is written by hand in Vec1.cs.

/// <summary>The 512-bit width (AVX-512 on x86).</summary>
internal readonly unsafe struct Vec512<T> : IVec<Vec512<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The register.</summary>
    public readonly Vector512<T> V;

    /// <summary>Wraps a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vec512(Vector512<T> v) => V = v;

    public static int Count => Vector512<T>.Count;
    public static Vec512<T> Zero => new(Vector512<T>.Zero);
    public static Vec512<T> One => new(Vector512<T>.One);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> Create(T value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> Load(T* source) => new(Vector512.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> LoadWidening(float* source) => new(Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(T* destination) => V.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator +(Vec512<T> a, Vec512<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator -(Vec512<T> a, Vec512<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator *(Vec512<T> a, Vec512<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator /(Vec512<T> a, Vec512<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator -(Vec512<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator &(Vec512<T> a, Vec512<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> operator |(Vec512<T> a, Vec512<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> MulAdd(Vec512<T> a, Vec512<T> b, Vec512<T> c) => new(VectorHelpers.MulAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> Abs(Vec512<T> x) => new(Vector512.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> Sqrt(Vec512<T> x) => new(Vector512.Sqrt(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> Exp(Vec512<T> x) =>
        typeof(T) == typeof(float) ? new(Vector512.Exp(x.V.AsSingle()).As<float, T>()) : new(Vector512.Exp(x.V.AsDouble()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> MinNative(Vec512<T> a, Vec512<T> b) => new(Vector512.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> MaxNative(Vec512<T> a, Vec512<T> b) => new(Vector512.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> LessThan(Vec512<T> a, Vec512<T> b) => new(Vector512.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> GreaterThan(Vec512<T> a, Vec512<T> b) => new(Vector512.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> GreaterThanOrEqual(Vec512<T> a, Vec512<T> b) => new(Vector512.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> EqualsMask(Vec512<T> a, Vec512<T> b) => new(Vector512.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> ConditionalSelect(Vec512<T> mask, Vec512<T> a, Vec512<T> b) => new(Vector512.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512<T> AndNot(Vec512<T> a, Vec512<T> b) => new(Vector512.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vec512<T> v) => Vector512.Sum(v.V);
}

/// <summary>The 256-bit width (AVX2 + FMA on x86).</summary>
internal readonly unsafe struct Vec256<T> : IVec<Vec256<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The register.</summary>
    public readonly Vector256<T> V;

    /// <summary>Wraps a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vec256(Vector256<T> v) => V = v;

    public static int Count => Vector256<T>.Count;
    public static Vec256<T> Zero => new(Vector256<T>.Zero);
    public static Vec256<T> One => new(Vector256<T>.One);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> Create(T value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> Load(T* source) => new(Vector256.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> LoadWidening(float* source) => new(Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(T* destination) => V.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator +(Vec256<T> a, Vec256<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator -(Vec256<T> a, Vec256<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator *(Vec256<T> a, Vec256<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator /(Vec256<T> a, Vec256<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator -(Vec256<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator &(Vec256<T> a, Vec256<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> operator |(Vec256<T> a, Vec256<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> MulAdd(Vec256<T> a, Vec256<T> b, Vec256<T> c) => new(VectorHelpers.MulAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> Abs(Vec256<T> x) => new(Vector256.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> Sqrt(Vec256<T> x) => new(Vector256.Sqrt(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> Exp(Vec256<T> x) =>
        typeof(T) == typeof(float) ? new(Vector256.Exp(x.V.AsSingle()).As<float, T>()) : new(Vector256.Exp(x.V.AsDouble()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> MinNative(Vec256<T> a, Vec256<T> b) => new(Vector256.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> MaxNative(Vec256<T> a, Vec256<T> b) => new(Vector256.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> LessThan(Vec256<T> a, Vec256<T> b) => new(Vector256.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> GreaterThan(Vec256<T> a, Vec256<T> b) => new(Vector256.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> GreaterThanOrEqual(Vec256<T> a, Vec256<T> b) => new(Vector256.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> EqualsMask(Vec256<T> a, Vec256<T> b) => new(Vector256.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> ConditionalSelect(Vec256<T> mask, Vec256<T> a, Vec256<T> b) => new(Vector256.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256<T> AndNot(Vec256<T> a, Vec256<T> b) => new(Vector256.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vec256<T> v) => Vector256.Sum(v.V);
}

/// <summary>The 128-bit width (SSE with FMA when present on x86, AdvSimd on Arm).</summary>
internal readonly unsafe struct Vec128<T> : IVec<Vec128<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The register.</summary>
    public readonly Vector128<T> V;

    /// <summary>Wraps a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vec128(Vector128<T> v) => V = v;

    public static int Count => Vector128<T>.Count;
    public static Vec128<T> Zero => new(Vector128<T>.Zero);
    public static Vec128<T> One => new(Vector128<T>.One);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> Create(T value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> Load(T* source) => new(Vector128.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> LoadWidening(float* source) => new(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(double*)source).AsSingle()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(T* destination) => V.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator +(Vec128<T> a, Vec128<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator -(Vec128<T> a, Vec128<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator *(Vec128<T> a, Vec128<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator /(Vec128<T> a, Vec128<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator -(Vec128<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator &(Vec128<T> a, Vec128<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> operator |(Vec128<T> a, Vec128<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> MulAdd(Vec128<T> a, Vec128<T> b, Vec128<T> c) => new(VectorHelpers.MulAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> Abs(Vec128<T> x) => new(Vector128.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> Sqrt(Vec128<T> x) => new(Vector128.Sqrt(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> Exp(Vec128<T> x) =>
        typeof(T) == typeof(float) ? new(Vector128.Exp(x.V.AsSingle()).As<float, T>()) : new(Vector128.Exp(x.V.AsDouble()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> MinNative(Vec128<T> a, Vec128<T> b) => new(Vector128.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> MaxNative(Vec128<T> a, Vec128<T> b) => new(Vector128.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> LessThan(Vec128<T> a, Vec128<T> b) => new(Vector128.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> GreaterThan(Vec128<T> a, Vec128<T> b) => new(Vector128.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> GreaterThanOrEqual(Vec128<T> a, Vec128<T> b) => new(Vector128.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> EqualsMask(Vec128<T> a, Vec128<T> b) => new(Vector128.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> ConditionalSelect(Vec128<T> mask, Vec128<T> a, Vec128<T> b) => new(Vector128.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128<T> AndNot(Vec128<T> a, Vec128<T> b) => new(Vector128.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(Vec128<T> v) => Vector128.Sum(v.V);
}
