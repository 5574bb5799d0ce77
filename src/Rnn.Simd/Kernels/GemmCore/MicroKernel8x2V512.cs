using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// Vector512 micro-kernel: a 8 x (2 x Vector512&lt;T&gt;.Count) tile of C held in 16 vector registers. Per step of k it
/// loads 2 vectors of the packed B panel, broadcasts 8 values of the packed A panel and issues 16 FMAs;
/// 16 independent accumulators cover the FMA latency (4 cycles) times the FMA ports (2).
/// </summary>
internal readonly unsafe struct MicroKernel8x2V512<T> : IGemmMicroKernel<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static int MR => 8;
    public static int NR => 2 * Vector512<T>.Count;

    /// <summary>C[0..MR, 0..NR) = alpha · Σ_k a[k·MR + i] · b[k·ldb + j] + beta · C (C not read when beta = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default; Vector512<T> c01 = default;
        Vector512<T> c10 = default; Vector512<T> c11 = default;
        Vector512<T> c20 = default; Vector512<T> c21 = default;
        Vector512<T> c30 = default; Vector512<T> c31 = default;
        Vector512<T> c40 = default; Vector512<T> c41 = default;
        Vector512<T> c50 = default; Vector512<T> c51 = default;
        Vector512<T> c60 = default; Vector512<T> c61 = default;
        Vector512<T> c70 = default; Vector512<T> c71 = default;
        for (nint k = 0; k < kc; k++)
        {
            Vector512<T> b0 = Vector512.Load(b); Vector512<T> b1 = Vector512.Load(b + 1 * w);
            { Vector512<T> ai = Vector512.Create(a[0]); c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01); }
            { Vector512<T> ai = Vector512.Create(a[1]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
            { Vector512<T> ai = Vector512.Create(a[2]); c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); }
            { Vector512<T> ai = Vector512.Create(a[3]); c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); }
            { Vector512<T> ai = Vector512.Create(a[4]); c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41); }
            { Vector512<T> ai = Vector512.Create(a[5]); c50 = MulAdd(ai, b0, c50); c51 = MulAdd(ai, b1, c51); }
            { Vector512<T> ai = Vector512.Create(a[6]); c60 = MulAdd(ai, b0, c60); c61 = MulAdd(ai, b1, c61); }
            { Vector512<T> ai = Vector512.Create(a[7]); c70 = MulAdd(ai, b0, c70); c71 = MulAdd(ai, b1, c71); }
            a += 8;
            b += ldb;
        }
        Vector512<T> va = Vector512.Create(alpha);
        if (beta == T.Zero)
        {
            (va * c00).Store(c + 0 * ldc + 0 * w); (va * c01).Store(c + 0 * ldc + 1 * w);
            (va * c10).Store(c + 1 * ldc + 0 * w); (va * c11).Store(c + 1 * ldc + 1 * w);
            (va * c20).Store(c + 2 * ldc + 0 * w); (va * c21).Store(c + 2 * ldc + 1 * w);
            (va * c30).Store(c + 3 * ldc + 0 * w); (va * c31).Store(c + 3 * ldc + 1 * w);
            (va * c40).Store(c + 4 * ldc + 0 * w); (va * c41).Store(c + 4 * ldc + 1 * w);
            (va * c50).Store(c + 5 * ldc + 0 * w); (va * c51).Store(c + 5 * ldc + 1 * w);
            (va * c60).Store(c + 6 * ldc + 0 * w); (va * c61).Store(c + 6 * ldc + 1 * w);
            (va * c70).Store(c + 7 * ldc + 0 * w); (va * c71).Store(c + 7 * ldc + 1 * w);
        }
        else
        {
            Vector512<T> vb = Vector512.Create(beta);
            { T* p = c + 0 * ldc + 0 * w; MulAdd(va, c00, vb * Vector512.Load(p)).Store(p); } { T* p = c + 0 * ldc + 1 * w; MulAdd(va, c01, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 1 * ldc + 0 * w; MulAdd(va, c10, vb * Vector512.Load(p)).Store(p); } { T* p = c + 1 * ldc + 1 * w; MulAdd(va, c11, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 2 * ldc + 0 * w; MulAdd(va, c20, vb * Vector512.Load(p)).Store(p); } { T* p = c + 2 * ldc + 1 * w; MulAdd(va, c21, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 3 * ldc + 0 * w; MulAdd(va, c30, vb * Vector512.Load(p)).Store(p); } { T* p = c + 3 * ldc + 1 * w; MulAdd(va, c31, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 4 * ldc + 0 * w; MulAdd(va, c40, vb * Vector512.Load(p)).Store(p); } { T* p = c + 4 * ldc + 1 * w; MulAdd(va, c41, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 5 * ldc + 0 * w; MulAdd(va, c50, vb * Vector512.Load(p)).Store(p); } { T* p = c + 5 * ldc + 1 * w; MulAdd(va, c51, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 6 * ldc + 0 * w; MulAdd(va, c60, vb * Vector512.Load(p)).Store(p); } { T* p = c + 6 * ldc + 1 * w; MulAdd(va, c61, vb * Vector512.Load(p)).Store(p); }
            { T* p = c + 7 * ldc + 0 * w; MulAdd(va, c70, vb * Vector512.Load(p)).Store(p); } { T* p = c + 7 * ldc + 1 * w; MulAdd(va, c71, vb * Vector512.Load(p)).Store(p); }
        }
    }
}
