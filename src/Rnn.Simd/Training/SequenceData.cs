using System.Numerics;

namespace Rnn.Simd.Training;

/// <summary>
/// A time-major series of inputs and the targets the network should produce at each step, with optional target
/// weights (0 masks a target out). Step t pairs inputs[t·I .. t·I + I) with targets[t·O .. t·O + O).
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed class SequenceData<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>Wraps (does not copy) the arrays after validating them.</summary>
    /// <param name="inputs">S x I values, time-major.</param>
    /// <param name="targets">S x O values, time-major.</param>
    /// <param name="inputSize">I.</param>
    /// <param name="outputSize">O.</param>
    /// <param name="targetWeights">Optional S x O weights ≥ 0; null means 1 everywhere.</param>
    /// <exception cref="ArgumentException">Lengths disagree, the series is empty, or a value is NaN / infinite (the step and column are named).</exception>
    public SequenceData(T[] inputs, T[] targets, int inputSize, int outputSize, T[]? targetWeights = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "Input size must be at least 1.");
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "Output size must be at least 1.");
        if (inputs.Length == 0) throw new ArgumentException("The series is empty.", nameof(inputs));
        if (inputs.Length % inputSize != 0) throw new ArgumentException($"Inputs length {inputs.Length} is not a multiple of the input size {inputSize}.", nameof(inputs));
        Steps = inputs.Length / inputSize;
        if (targets.Length != Steps * outputSize) throw new ArgumentException($"Targets length {targets.Length} should be {Steps} steps x {outputSize} outputs = {Steps * outputSize}.", nameof(targets));
        if (targetWeights is not null && targetWeights.Length != targets.Length) throw new ArgumentException($"Target weights length {targetWeights.Length} differs from the targets' {targets.Length}.", nameof(targetWeights));
        CheckFinite(inputs, inputSize, nameof(inputs));
        CheckFinite(targets, outputSize, nameof(targets));
        if (targetWeights is not null)
        {
            CheckFinite(targetWeights, outputSize, nameof(targetWeights));
            for (int i = 0; i < targetWeights.Length; i++)
            {
                if (targetWeights[i] < T.Zero) throw new ArgumentException($"Target weight at step {i / outputSize}, column {i % outputSize} is negative ({targetWeights[i]}).", nameof(targetWeights));
            }
        }
        Inputs = inputs;
        Targets = targets;
        TargetWeights = targetWeights;
        InputSize = inputSize;
        OutputSize = outputSize;
    }

    /// <summary>S, the number of time steps.</summary>
    public int Steps { get; }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>O.</summary>
    public int OutputSize { get; }

    /// <summary>S x I inputs, time-major.</summary>
    public T[] Inputs { get; }

    /// <summary>S x O targets, time-major.</summary>
    public T[] Targets { get; }

    /// <summary>S x O target weights, or null for 1 everywhere.</summary>
    public T[]? TargetWeights { get; }

    private static void CheckFinite(T[] values, int width, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) throw new ArgumentException($"{name} holds {values[i]} at step {i / width}, column {i % width}.", name);
        }
    }
}
