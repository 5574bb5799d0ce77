using System.Numerics;
using System.Runtime.CompilerServices;
using static Rnn.Simd.Kernels.Operators.VectorHelpers;

namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>Scalar micro-kernel: a 4 x 4 tile of C in 16 scalar registers; the fallback where no vector path exists.</summary>
internal readonly unsafe struct MicroKernel4x4Scalar<T> : IGemmMicroKernel<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 4;

    /// <summary>C[0..MR, 0..NR) = alpha · Σ_k a[k·MR + i] · b[k·ldb + j] + beta · C (C not read when beta = 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta)
    {
        T c00 = T.Zero; T c01 = T.Zero; T c02 = T.Zero; T c03 = T.Zero;
        T c10 = T.Zero; T c11 = T.Zero; T c12 = T.Zero; T c13 = T.Zero;
        T c20 = T.Zero; T c21 = T.Zero; T c22 = T.Zero; T c23 = T.Zero;
        T c30 = T.Zero; T c31 = T.Zero; T c32 = T.Zero; T c33 = T.Zero;
        for (nint k = 0; k < kc; k++)
        {
            T b0 = b[0]; T b1 = b[1]; T b2 = b[2]; T b3 = b[3];
            { T ai = a[0]; c00 = MulAdd(ai, b0, c00); c01 = MulAdd(ai, b1, c01); c02 = MulAdd(ai, b2, c02); c03 = MulAdd(ai, b3, c03); }
            { T ai = a[1]; c10 = MulAdd(ai, b0, c10); c11 = MulAdd(ai, b1, c11); c12 = MulAdd(ai, b2, c12); c13 = MulAdd(ai, b3, c13); }
            { T ai = a[2]; c20 = MulAdd(ai, b0, c20); c21 = MulAdd(ai, b1, c21); c22 = MulAdd(ai, b2, c22); c23 = MulAdd(ai, b3, c23); }
            { T ai = a[3]; c30 = MulAdd(ai, b0, c30); c31 = MulAdd(ai, b1, c31); c32 = MulAdd(ai, b2, c32); c33 = MulAdd(ai, b3, c33); }
            a += 4;
            b += ldb;
        }
        if (beta == T.Zero)
        {
            c[0 * ldc + 0] = alpha * c00; c[0 * ldc + 1] = alpha * c01; c[0 * ldc + 2] = alpha * c02; c[0 * ldc + 3] = alpha * c03;
            c[1 * ldc + 0] = alpha * c10; c[1 * ldc + 1] = alpha * c11; c[1 * ldc + 2] = alpha * c12; c[1 * ldc + 3] = alpha * c13;
            c[2 * ldc + 0] = alpha * c20; c[2 * ldc + 1] = alpha * c21; c[2 * ldc + 2] = alpha * c22; c[2 * ldc + 3] = alpha * c23;
            c[3 * ldc + 0] = alpha * c30; c[3 * ldc + 1] = alpha * c31; c[3 * ldc + 2] = alpha * c32; c[3 * ldc + 3] = alpha * c33;
        }
        else
        {
            c[0 * ldc + 0] = MulAdd(alpha, c00, beta * c[0 * ldc + 0]); c[0 * ldc + 1] = MulAdd(alpha, c01, beta * c[0 * ldc + 1]); c[0 * ldc + 2] = MulAdd(alpha, c02, beta * c[0 * ldc + 2]); c[0 * ldc + 3] = MulAdd(alpha, c03, beta * c[0 * ldc + 3]);
            c[1 * ldc + 0] = MulAdd(alpha, c10, beta * c[1 * ldc + 0]); c[1 * ldc + 1] = MulAdd(alpha, c11, beta * c[1 * ldc + 1]); c[1 * ldc + 2] = MulAdd(alpha, c12, beta * c[1 * ldc + 2]); c[1 * ldc + 3] = MulAdd(alpha, c13, beta * c[1 * ldc + 3]);
            c[2 * ldc + 0] = MulAdd(alpha, c20, beta * c[2 * ldc + 0]); c[2 * ldc + 1] = MulAdd(alpha, c21, beta * c[2 * ldc + 1]); c[2 * ldc + 2] = MulAdd(alpha, c22, beta * c[2 * ldc + 2]); c[2 * ldc + 3] = MulAdd(alpha, c23, beta * c[2 * ldc + 3]);
            c[3 * ldc + 0] = MulAdd(alpha, c30, beta * c[3 * ldc + 0]); c[3 * ldc + 1] = MulAdd(alpha, c31, beta * c[3 * ldc + 1]); c[3 * ldc + 2] = MulAdd(alpha, c32, beta * c[3 * ldc + 2]); c[3 * ldc + 3] = MulAdd(alpha, c33, beta * c[3 * ldc + 3]);
        }
    }

    /// <summary>No partial-row form: the driver computes a short last panel through the edge tile.</summary>
    public static bool RunPartialRows(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta, int rows) => false;
}
