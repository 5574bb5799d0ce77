using System.Numerics;
using Rnn.Simd.Kernels.Simd;

namespace Rnn.Simd.Kernels.Updates;

/// <summary>
/// The per-element rule of one optimiser (the TensorPrimitives operator pattern, widened to in-place state): given
/// the effective gradient <c>g</c> of an element (already scaled, clipped and regularised by
/// <see cref="GradientTerms{T}"/>), update its parameter <c>p</c> and up to three state values in place.
/// </summary>
/// <remarks>
/// An operator is a small readonly struct whose fields hold the scalars of one step (learning rate, decay rates, bias
/// corrections), with one body written over the width abstraction, so every ISA path (the scalar one included) runs
/// the same sequence of operations and gives the same bits wherever the 128-bit path has a hardware FMA. States the
/// operator does not use (index ≥ <see cref="StateCount"/>) are never loaded or stored by <see cref="UpdateDriver"/>.
/// </remarks>
internal interface IUpdateOperator<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Number of state buffers the operator reads and writes (0 to 3).</summary>
    static abstract int StateCount { get; }

    /// <summary>Updates one register of parameters and states from the effective gradient.</summary>
    void Invoke<TV>(ref TV p, TV g, ref TV s0, ref TV s1, ref TV s2) where TV : unmanaged, IVec<TV, T>;
}
