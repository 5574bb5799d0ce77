using System.Runtime.Intrinsics;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// The per-element rule of one optimiser (the TensorPrimitives operator pattern, widened to in-place state): given
/// the effective gradient <c>g</c> of an element (already scaled, clipped and regularised by
/// <see cref="GradientTerms{T}"/>), update its parameter <c>p</c> and up to three state values in place.
/// </summary>
/// <remarks>
/// An operator is a small readonly struct whose fields hold the scalars of one step (learning rate, decay rates, bias
/// corrections). The scalar and the three vector forms must compute the same sequence of operations, so that every
/// ISA path gives the same bits wherever the 128-bit path has a hardware FMA. States the operator does not use
/// (index ≥ <see cref="StateCount"/>) are never loaded or stored by <see cref="UpdateDriver"/>.
/// </remarks>
internal interface IUpdateOperator<T> where T : unmanaged
{
    /// <summary>Number of state buffers the operator reads and writes (0 to 3).</summary>
    static abstract int StateCount { get; }

    void Invoke(ref T p, T g, ref T s0, ref T s1, ref T s2);

    void Invoke(ref Vector128<T> p, Vector128<T> g, ref Vector128<T> s0, ref Vector128<T> s1, ref Vector128<T> s2);

    void Invoke(ref Vector256<T> p, Vector256<T> g, ref Vector256<T> s0, ref Vector256<T> s1, ref Vector256<T> s2);

    void Invoke(ref Vector512<T> p, Vector512<T> g, ref Vector512<T> s0, ref Vector512<T> s1, ref Vector512<T> s2);
}
