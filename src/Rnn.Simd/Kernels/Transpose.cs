namespace Rnn.Simd.Kernels;

/// <summary>Whether a GEMM operand is used as stored or transposed (BLAS 'N' / 'T').</summary>
public enum Transpose
{
    /// <summary>op(X) = X.</summary>
    None = 0,
    /// <summary>op(X) = Xᵀ.</summary>
    Transposed = 1,
}
