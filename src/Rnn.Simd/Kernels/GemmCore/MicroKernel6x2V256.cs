using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// Vector256 micro-kernel: a 6 x (2 x Vector256&lt;T&gt;.Count) tile of C held in 12 vector registers. Per step of k it
/// loads 2 vectors of the packed B panel, broadcasts 6 values of the packed A panel and issues 12 FMAs;
/// 12 independent accumulators cover the FMA latency (4 cycles) times the FMA ports (2).
/// </summary>
internal readonly unsafe struct MicroKernel6x2V256<T> : IGemmMicroKernel<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;

    /// <summary>C[0..MR, 0..NR) = alpha · Σ_k a[k·MR + i] · b[k·ldb + j] + beta · C (C not read when beta = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        nint w = Vector256<T>.Count;
        Vector256<T> c00 = default; Vector256<T> c01 = default;
        Vector256<T> c10 = default; Vector256<T> c11 = default;
        Vector256<T> c20 = default; Vector256<T> c21 = default;
        Vector256<T> c30 = default; Vector256<T> c31 = default;
        Vector256<T> c40 = default; Vector256<T> c41 = default;
        Vector256<T> c50 = default; Vector256<T> c51 = default;
        for (nint k = 0; k < kc; k++)
        {
            Vector256<T> b0 = Vector256.Load(b); Vector256<T> b1 = Vector256.Load(b + 1 * w);
            { Vector256<T> ai = Vector256.Create(a[0]); c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01); }
            { Vector256<T> ai = Vector256.Create(a[1]); c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); }
            { Vector256<T> ai = Vector256.Create(a[2]); c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); }
            { Vector256<T> ai = Vector256.Create(a[3]); c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); }
            { Vector256<T> ai = Vector256.Create(a[4]); c40 = MulAdd(ai, b0, c40); c41 = MulAdd(ai, b1, c41); }
            { Vector256<T> ai = Vector256.Create(a[5]); c50 = MulAdd(ai, b0, c50); c51 = MulAdd(ai, b1, c51); }
            a += 6;
            b += ldb;
        }
        Vector256<T> va = Vector256.Create(alpha);
        if (beta == T.Zero)
        {
            (va * c00).Store(c + 0 * ldc + 0 * w); (va * c01).Store(c + 0 * ldc + 1 * w);
            (va * c10).Store(c + 1 * ldc + 0 * w); (va * c11).Store(c + 1 * ldc + 1 * w);
            (va * c20).Store(c + 2 * ldc + 0 * w); (va * c21).Store(c + 2 * ldc + 1 * w);
            (va * c30).Store(c + 3 * ldc + 0 * w); (va * c31).Store(c + 3 * ldc + 1 * w);
            (va * c40).Store(c + 4 * ldc + 0 * w); (va * c41).Store(c + 4 * ldc + 1 * w);
            (va * c50).Store(c + 5 * ldc + 0 * w); (va * c51).Store(c + 5 * ldc + 1 * w);
        }
        else
        {
            Vector256<T> vb = Vector256.Create(beta);
            { T* p = c + 0 * ldc + 0 * w; MulAdd(va, c00, vb * Vector256.Load(p)).Store(p); } { T* p = c + 0 * ldc + 1 * w; MulAdd(va, c01, vb * Vector256.Load(p)).Store(p); }
            { T* p = c + 1 * ldc + 0 * w; MulAdd(va, c10, vb * Vector256.Load(p)).Store(p); } { T* p = c + 1 * ldc + 1 * w; MulAdd(va, c11, vb * Vector256.Load(p)).Store(p); }
            { T* p = c + 2 * ldc + 0 * w; MulAdd(va, c20, vb * Vector256.Load(p)).Store(p); } { T* p = c + 2 * ldc + 1 * w; MulAdd(va, c21, vb * Vector256.Load(p)).Store(p); }
            { T* p = c + 3 * ldc + 0 * w; MulAdd(va, c30, vb * Vector256.Load(p)).Store(p); } { T* p = c + 3 * ldc + 1 * w; MulAdd(va, c31, vb * Vector256.Load(p)).Store(p); }
            { T* p = c + 4 * ldc + 0 * w; MulAdd(va, c40, vb * Vector256.Load(p)).Store(p); } { T* p = c + 4 * ldc + 1 * w; MulAdd(va, c41, vb * Vector256.Load(p)).Store(p); }
            { T* p = c + 5 * ldc + 0 * w; MulAdd(va, c50, vb * Vector256.Load(p)).Store(p); } { T* p = c + 5 * ldc + 1 * w; MulAdd(va, c51, vb * Vector256.Load(p)).Store(p); }
        }
    }
}
