using System.Numerics;
using Rnn.Simd.Network;

namespace Rnn.Simd.Training;

/// <summary>
/// What every way of setting a network's weights from data has in common: truncated BPTT (<see cref="Trainer{T}"/>)
/// and the trainers of <c>Rnn.Simd.Alternatives</c> (RTRL, extended Kalman filters, CMA-ES, Evolino, echo state
/// networks). Each trains an ordinary <see cref="RecurrentNetwork{T}"/>, so what it produced saves, loads, forecasts
/// and evaluates like any other network.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public interface INetworkTrainer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The network whose weights <see cref="Fit"/> sets (after Fit it holds the best weights found).</summary>
    RecurrentNetwork<T> Network { get; }

    /// <summary>Raised after every epoch (pass over the data, generation, ...) on the training thread.</summary>
    event Action<EpochProgress>? EpochCompleted;

    /// <summary>
    /// Trains on <paramref name="train"/>; <paramref name="validation"/>, the part that directly follows it in time
    /// (or null), selects the best weights where the method has a choice. Cancelling stops at the next epoch boundary
    /// (or sooner) and leaves the best weights so far in the network, with <see cref="TrainingResult.Cancelled"/> set.
    /// </summary>
    TrainingResult Fit(SequenceData<T> train, SequenceData<T>? validation = null, CancellationToken cancellationToken = default);
}

/// <summary>Forward-only losses of a network on a sequence, shared by every trainer.</summary>
public static class SequenceLoss
{
    /// <summary>
    /// Weighted MSE of <paramref name="network"/> on <paramref name="data"/> when it directly follows
    /// <paramref name="history"/>: <paramref name="state"/> (batch 1) is reset and run over the history first (null:
    /// start from zero). Σ w (y - target)² / Σ w over the S·O targets of <paramref name="data"/> (w = 1 without target
    /// weights: the plain MSE); 0 when every weight is 0. <paramref name="output"/> (length O) is scratch. Allocates
    /// nothing.
    /// </summary>
    public static double WeightedMse<T>(RecurrentNetwork<T> network, NetworkState<T> state, Span<T> output, SequenceData<T>? history, SequenceData<T> data)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(network, data, nameof(data));
        int o = data.OutputSize;
        if (output.Length < o) throw new ArgumentException($"The output scratch holds {output.Length} values; the network gives {o}.", nameof(output));
        output = output[..o];
        state.Reset();
        if (history is not null)
        {
            CheckShape(network, history, nameof(history));
            for (int t = 0; t < history.Steps; t++) network.Step(history.Inputs.AsSpan(t * history.InputSize, history.InputSize), output, state);
        }
        double sum = 0, weightSum = 0;
        for (int t = 0; t < data.Steps; t++)
        {
            network.Step(data.Inputs.AsSpan(t * data.InputSize, data.InputSize), output, state);
            for (int j = 0; j < o; j++)
            {
                double d = double.CreateTruncating(output[j]) - double.CreateTruncating(data.Targets[t * o + j]);
                double weight = data.TargetWeights is null ? 1.0 : double.CreateTruncating(data.TargetWeights[t * o + j]);
                sum += weight * d * d;
                weightSum += weight;
            }
        }
        return weightSum > 0 ? sum / weightSum : 0;
    }

    /// <summary>Throws when <paramref name="data"/> does not have the network's input and output sizes.</summary>
    public static void CheckShape<T>(RecurrentNetwork<T> network, SequenceData<T> data, string name)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        if (data.InputSize != network.Architecture.InputSize || data.OutputSize != network.Architecture.OutputSize)
            throw new ArgumentException($"The {name} data has {data.InputSize} inputs and {data.OutputSize} outputs; the network takes {network.Architecture.InputSize} and gives {network.Architecture.OutputSize}.", name);
    }
}
