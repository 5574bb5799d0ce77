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
}
