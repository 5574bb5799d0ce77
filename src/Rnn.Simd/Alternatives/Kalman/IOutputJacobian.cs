using System.Numerics;
using Rnn.Simd.Network;

namespace Rnn.Simd.Alternatives.Kalman;

/// <summary>
/// A source of the output Jacobian H_t = ∂y_t/∂w that an extended Kalman filter needs (Haykin 2001, ch. 2): it runs
/// the network forward instance by instance (s steps each) and then gives the derivative of each of the instance's
/// s·O outputs with respect to every parameter. <see cref="TruncatedBpttJacobian{T}"/> gets it from truncated BPTT
/// (the book's "EKF with BPTT(h)"); a real-time recurrent learning source (forward sensitivities, Williams and Zipser
/// 1989) can implement the same contract.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public interface IOutputJacobian<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The network whose outputs are differentiated (its weights may change between instances).</summary>
    RecurrentNetwork<T> Network { get; }

    /// <summary>s, the steps of one instance.</summary>
    int StepsPerInstance { get; }

    /// <summary>Starts a new stream from a zero state (and forgets whatever history the Jacobian uses).</summary>
    void Reset();

    /// <summary>Runs the next instance: <paramref name="inputs"/> s x I (time-major) in, the s x O outputs out.</summary>
    void Advance(ReadOnlySpan<T> inputs, Span<T> outputs);

    /// <summary>
    /// Overwrites <paramref name="row"/> (length n = the network's parameter count, in its <see cref="ParameterLayout"/>)
    /// with ∂y_k/∂w of output <paramref name="measurement"/> = step·O + output of the last <see cref="Advance"/>, at
    /// the weights that instance ran with. Allocates nothing.
    /// </summary>
    void Jacobian(int measurement, Span<T> row);
}
