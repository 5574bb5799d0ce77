namespace Rnn.Simd.Kernels.GemmCore;

/// <summary>
/// A register-tiled GEMM micro-kernel (BLIS / MLAS organisation): multiplies an MR-row panel of packed A
/// (layout [k][MR]) by an NR-column panel of packed B (layout [k][NR]) and writes one full MR x NR tile of C.
/// </summary>
internal unsafe interface IGemmMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of the C tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the C tile.</summary>
    static abstract int NR { get; }

    /// <summary>
    /// C[0..MR, 0..NR) = alpha · A_panel · B_panel + beta · C; C is not read when beta = 0. Row k of the B panel
    /// starts at b + k·ldb: ldb = NR for a packed panel, or the row stride of B when it is read in place.
    /// </summary>
    static abstract void Run(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta);

    /// <summary>
    /// The first <paramref name="rows"/> (&lt; MR) rows of a tile with full NR columns, bitwise as <see cref="Run"/>
    /// would give them; false when the kernel has no such form (the caller then goes through the edge tile).
    /// </summary>
    static abstract bool RunPartialRows(nint kc, T* a, T* b, nint ldb, T* c, nint ldc, T alpha, T beta, int rows);
}

/// <summary>The tile height of the vector micro-kernel per register size.</summary>
internal static class MicroKernelShape
{
    /// <summary>MR for registers of <paramref name="registerBytes"/> bytes: 8 with 32 registers of 64 bytes (AVX-512), else 6.</summary>
    public static int Rows(int registerBytes) => registerBytes == 64 ? 8 : 6;
}
