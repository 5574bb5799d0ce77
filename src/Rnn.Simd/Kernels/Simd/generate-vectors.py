#!/usr/bin/env python3
"""Writes Vectors.cs: the Vec512 / Vec256 / Vec128 adapters of the width abstraction (IVec.cs), from one template,
so the three cannot drift apart. Each member forwards to the System.Runtime.Intrinsics operation of the same name.

    python3 src/Rnn.Simd/Kernels/Simd/generate-vectors.py          # rewrite Vectors.cs
    python3 src/Rnn.Simd/Kernels/Simd/generate-vectors.py --check  # exit 1 if Vectors.cs is not what it would write

.ci/run runs --check. Vec1 (the scalar width) is written by hand in Vec1.cs.
"""
import pathlib
import sys

TEMPLATE = '''
/// <summary>DOC</summary>
internal readonly unsafe struct NAME<T> : IVec<NAME<T>, T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The register.</summary>
    public readonly VT<T> V;

    /// <summary>Wraps a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public NAME(VT<T> v) => V = v;

    public static int Count => VT<T>.Count;
    public static NAME<T> Zero => new(VT<T>.Zero);
    public static NAME<T> One => new(VT<T>.One);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Create(T value) => new(VT.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Load(T* source) => new(VT.Load(source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> LoadWidening(float* source) => new(WIDEN.As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public void Store(T* destination) => V.Store(destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator +(NAME<T> a, NAME<T> b) => new(a.V + b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator -(NAME<T> a, NAME<T> b) => new(a.V - b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator *(NAME<T> a, NAME<T> b) => new(a.V * b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator /(NAME<T> a, NAME<T> b) => new(a.V / b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator -(NAME<T> a) => new(-a.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator &(NAME<T> a, NAME<T> b) => new(a.V & b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator |(NAME<T> a, NAME<T> b) => new(a.V | b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> operator ^(NAME<T> a, NAME<T> b) => new(a.V ^ b.V);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> MulAdd(NAME<T> a, NAME<T> b, NAME<T> c) => new(VectorHelpers.MulAdd(a.V, b.V, c.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Abs(NAME<T> x) => new(VT.Abs(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Sqrt(NAME<T> x) => new(VT.Sqrt(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Exp(NAME<T> x) =>
        typeof(T) == typeof(float) ? new(VT.Exp(x.V.AsSingle()).As<float, T>()) : new(VT.Exp(x.V.AsDouble()).As<double, T>());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> MinNative(NAME<T> a, NAME<T> b) => new(VT.MinNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> MaxNative(NAME<T> a, NAME<T> b) => new(VT.MaxNative(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> Min(NAME<T> a, NAME<T> b) => new(VT.Min(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> IsNegative(NAME<T> x) => new(VT.IsNegative(x.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> LessThan(NAME<T> a, NAME<T> b) => new(VT.LessThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> GreaterThan(NAME<T> a, NAME<T> b) => new(VT.GreaterThan(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> GreaterThanOrEqual(NAME<T> a, NAME<T> b) => new(VT.GreaterThanOrEqual(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> EqualsMask(NAME<T> a, NAME<T> b) => new(VT.Equals(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> ConditionalSelect(NAME<T> mask, NAME<T> a, NAME<T> b) => new(VT.ConditionalSelect(mask.V, a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static NAME<T> AndNot(NAME<T> a, NAME<T> b) => new(VT.AndNot(a.V, b.V));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static T Sum(NAME<T> v) => VT.Sum(v.V);
}
'''

WIDTHS = [
    ('Vec512', 'Vector512', 'Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe())', 'The 512-bit width (AVX-512 on x86).'),
    ('Vec256', 'Vector256', 'Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe())', 'The 256-bit width (AVX2 + FMA on x86).'),
    ('Vec128', 'Vector128', 'Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(double*)source).AsSingle())',
     'The 128-bit width (SSE with FMA when present on x86, AdvSimd on Arm).'),
]

HEADER = '''// <auto-generated>
// Written by generate-vectors.py from one template; edit the template, not this file (.ci/run checks it is current).
// </auto-generated>
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Rnn.Simd.Kernels.Operators;

namespace Rnn.Simd.Kernels.Simd;
'''


def render() -> str:
    out = HEADER
    for name, vt, widen, doc in WIDTHS:
        out += (TEMPLATE.replace('NAME', name).replace('VT', vt).replace('WIDEN', widen).replace('DOC', doc))
    return out


def main() -> int:
    target = pathlib.Path(__file__).with_name('Vectors.cs')
    text = render()
    if '--check' in sys.argv[1:]:
        current = target.read_text(encoding='utf-8') if target.exists() else ''
        if current != text:
            print(f'{target} is out of date: run python3 {pathlib.Path(__file__).name}', file=sys.stderr)
            return 1
        print(f'{target.name} is up to date')
        return 0
    target.write_text(text, encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
