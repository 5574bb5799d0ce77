using System.Numerics;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;

namespace Rnn.Simd.Alternatives.Kalman;

/// <summary>
/// The output Jacobian from truncated back-propagation through time, "EKF with BPTT(h)" (Puskorius and Feldkamp
/// 1994; Haykin 2001, ch. 2): each instance of s steps runs forward into a <see cref="TruncatedBptt{T}"/> ring of
/// h + s - 1 slots (chapter section 2.1, BPTT(τb, τf) with τb = h + s - 1, τf = s), and row k of ∂y/∂w is one backward
/// pass seeded with the unit vector e_k as dL/dy (batch 1), so every output's derivative reaches at least h steps back.
/// </summary>
/// <remarks>
/// The ring keeps the activations each step was run with; when the weights change between instances (as the
/// filter changes them) the older steps' derivatives are those of the weights they ran with, the usual online
/// approximation of BPTT(h). O backward passes per step; nothing allocates after the first instance.
/// </remarks>
/// <typeparam name="T">float or double.</typeparam>
public sealed class TruncatedBpttJacobian<T> : IOutputJacobian<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly TruncatedBptt<T> _bptt;
    private readonly T[] _seed;

    /// <summary>Creates the source for a network.</summary>
    /// <param name="network">The network.</param>
    /// <param name="truncationDepth">h ≥ 1, the steps each output's derivative reaches back at least.</param>
    /// <param name="stepsPerInstance">s ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">h or s below 1.</exception>
    public TruncatedBpttJacobian(RecurrentNetwork<T> network, int truncationDepth, int stepsPerInstance = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (truncationDepth < 1) throw new ArgumentOutOfRangeException(nameof(truncationDepth), truncationDepth, $"The truncation depth h must be at least 1 (got {truncationDepth}).");
        if (stepsPerInstance < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerInstance), stepsPerInstance, $"The steps per instance s must be at least 1 (got {stepsPerInstance}).");
        Network = network;
        StepsPerInstance = stepsPerInstance;
        _bptt = new TruncatedBptt<T>(network, 1, BpttSchedule.Create(checked(truncationDepth + stepsPerInstance - 1), stepsPerInstance));
        _seed = new T[stepsPerInstance * network.Architecture.OutputSize];
    }

    /// <inheritdoc/>
    public RecurrentNetwork<T> Network { get; }

    /// <inheritdoc/>
    public int StepsPerInstance { get; }

    /// <summary>The recurrent state after the last instance.</summary>
    public NetworkState<T> State => _bptt.State;

    /// <inheritdoc/>
    public void Reset() => _bptt.Reset();

    /// <inheritdoc/>
    public void Advance(ReadOnlySpan<T> inputs, Span<T> outputs) => _bptt.ForwardWindow(inputs, outputs);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The measurement is not one of the instance's s·O outputs.</exception>
    public void Jacobian(int measurement, Span<T> row)
    {
        if ((uint)measurement >= (uint)_seed.Length) ThrowHelper.ThrowArgumentOutOfRange(nameof(measurement), $"Measurement {measurement} is not one of the instance's {_seed.Length} outputs.");
        if (row.Length < Network.Parameters.Length) ThrowHelper.ThrowDestinationTooShort(nameof(row), Network.Parameters.Length, row.Length);
        // dL/dy = e_k: the backward pass then accumulates ∂y_k/∂w into the (zeroed) gradient buffer.
        _seed[measurement] = T.One;
        Network.ZeroGradients();
        _bptt.BackwardWindow(_seed);
        _seed[measurement] = T.Zero;
        Network.Gradients.CopyTo(row);
    }
}
