using System.Numerics;
using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;
using Rnn.Simd.Kernels.Operators;
using Rnn.Simd.Kernels.Updates;
using Rnn.Simd.Training.Regularization;

namespace Rnn.Simd.Training.Optimizers;

/// <summary>
/// A first-order optimiser over one flat parameter buffer (chapter section 2.3). Each <see cref="Step(Span{T}, ReadOnlySpan{T}, T, T)"/>
/// is one fused SIMD pass over memory that, per element, scales the gradient by the clipping factor, clamps it
/// (<see cref="ClipValue"/>), adds the gradient of the regulariser R_λ (<see cref="Regularization"/>), applies
/// decoupled weight decay (<see cref="WeightDecay"/>) and performs the optimiser's own update, reading and writing
/// its state buffers in the same pass.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
/// <remarks>
/// <para>
/// State buffers (velocity, accumulators, moments, gains, previous gradient) have the layout of the parameters and
/// are allocated once by the constructor for <see cref="ParameterCount"/> elements; <see cref="Step(Span{T}, ReadOnlySpan{T}, T, T)"/>
/// allocates nothing. After a step the caller must tell the network its parameters changed
/// (<c>RecurrentNetwork.MarkParametersChanged</c>).
/// </para>
/// <para>
/// Per element the pass computes, with g the raw gradient, s the gradient scale and p the parameter:
/// <code>
///   g_eff = clamp(s · g, ±ClipValue) + 2 λ2 p + λ1 sign(p)   (λ = 0 outside the plan's regularised ranges)
///   p     = (1 - η · WeightDecay) · p                          (only inside the regularised ranges)
///   p, state = rule(p, g_eff, state, η)                        (Eq. 2.3 - 2.8, see each class)
/// </code>
/// The global-norm clipping factor is computed beforehand by <see cref="GradientClipping.ScaleForMaxNorm{T}(double, double)"/>
/// (one reduction) and passed in as s, so clipping costs no extra sweep over the gradients.
/// </para>
/// <para>
/// Not thread-safe: one optimiser serves one parameter buffer on one thread at a time. To time an optimiser, call
/// Step in a loop and divide <see cref="BytesPerStep"/> by the time per step (as <c>rnn-simd bench</c> and
/// bench/Rnn.Simd.Benchmarks/OptimizerBenchmarks.cs do).
/// </para>
/// </remarks>
public abstract unsafe class Optimizer<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    private readonly T[] _s0, _s1, _s2;
    private readonly string[] _stateNames;
    private long _stepCount;
    private double _clipValue = double.PositiveInfinity;

    private protected Optimizer(int parameterCount, RegularizationPlan? regularization, double weightDecay, IsaPath path, params string[] stateNames)
    {
        VectorHelpers.EnsureSupported<T>();
        if (parameterCount < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(parameterCount), $"The parameter count must not be negative (got {parameterCount}).");
        if (regularization is not null && regularization.ParameterCount != parameterCount)
            ThrowHelper.ThrowArgument(nameof(regularization), $"The regularisation plan covers {regularization.ParameterCount} parameters, the optimiser {parameterCount}.");
        CheckNonNegative(weightDecay, nameof(weightDecay));
        ParameterCount = parameterCount;
        Regularization = regularization ?? RegularizationPlan.Uniform(parameterCount);
        WeightDecay = weightDecay;
        Path = Isa.Resolve(path);
        _stateNames = stateNames;
        _s0 = stateNames.Length > 0 ? new T[parameterCount] : [];
        _s1 = stateNames.Length > 1 ? new T[parameterCount] : [];
        _s2 = stateNames.Length > 2 ? new T[parameterCount] : [];
    }

    /// <summary>A short name of the method, e.g. "Adam".</summary>
    public abstract string Name { get; }

    /// <summary>Length of the parameter, gradient and state buffers.</summary>
    public int ParameterCount { get; }

    /// <summary>
    /// The regulariser folded into each step and the ranges it (and <see cref="WeightDecay"/>) applies to. Without
    /// a plan, every element is regularised with λ1 = λ2 = 0.
    /// </summary>
    public RegularizationPlan Regularization { get; }

    /// <summary>
    /// Decoupled weight decay (Loshchilov and Hutter): each step multiplies the parameters of the regularised ranges
    /// by (1 - η · WeightDecay) before the update, outside the gradient, so adaptive methods do not rescale it.
    /// 0 except for <see cref="AdamW{T}"/>.
    /// </summary>
    public double WeightDecay { get; }

    /// <summary>The ISA path of the fused pass (never <see cref="IsaPath.Auto"/>).</summary>
    public IsaPath Path { get; }

    /// <summary>
    /// Clipping by value: every scaled gradient element is clamped to [-ClipValue, +ClipValue] inside the fused pass,
    /// before the regulariser's gradient is added. +∞ (the default) disables it. NaN still propagates.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to zero, a negative number or NaN.</exception>
    public double ClipValue
    {
        get => _clipValue;
        set
        {
            if (!(value > 0)) ThrowHelper.ThrowArgumentOutOfRange(nameof(ClipValue), $"The clip value must be positive (got {value}).");
            _clipValue = value;
        }
    }

    /// <summary>
    /// Steps taken since creation or <see cref="Reset"/> (k in the chapter's equations; Adam's bias correction uses
    /// it). Settable only to restore a checkpoint together with <see cref="State(int)"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative number.</exception>
    public long StepCount
    {
        get => _stepCount;
        set
        {
            if (value < 0) ThrowHelper.ThrowArgumentOutOfRange(nameof(StepCount), $"The step count must not be negative (got {value}).");
            _stepCount = value;
        }
    }

    /// <summary>Number of state buffers (0 for SGD, 1 for momentum, Nesterov, Adagrad and RMSprop, 2 for Adam, 3 for RMSprop with gains).</summary>
    public int StateCount => _stateNames.Length;

    /// <summary>The name of state buffer <paramref name="index"/>, e.g. "m" or "velocity".</summary>
    public string StateName(int index) => _stateNames[index];

    /// <summary>
    /// State buffer <paramref name="index"/>, <see cref="ParameterCount"/> elements in the parameter layout. Writable
    /// so that a checkpoint can restore it; the next step reads whatever it holds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is not below <see cref="StateCount"/>.</exception>
    public Span<T> State(int index) => index switch
    {
        0 when StateCount > 0 => _s0,
        1 when StateCount > 1 => _s1,
        2 when StateCount > 2 => _s2,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {StateCount} state buffers."),
    };

    /// <summary>
    /// Bytes of memory traffic per parameter and step: the parameter and each state are read and written, the
    /// gradient is read. Adam in float: (3 + 2·2) · 4 = 28.
    /// </summary>
    public int BytesPerParameter => (3 + 2 * StateCount) * Unsafe.SizeOf<T>();

    /// <summary>Bytes of memory traffic of one <see cref="Step(Span{T}, ReadOnlySpan{T}, T, T)"/>: <see cref="ParameterCount"/> · <see cref="BytesPerParameter"/>.</summary>
    public long BytesPerStep => (long)ParameterCount * BytesPerParameter;

    /// <summary>One unscaled step: <see cref="Step(Span{T}, ReadOnlySpan{T}, T, T)"/> with a gradient scale of 1.</summary>
    public void Step(Span<T> parameters, ReadOnlySpan<T> gradients, T learningRate) => Step(parameters, gradients, learningRate, T.One);

    /// <summary>
    /// One update of the whole buffer in one fused pass. Overwrites <paramref name="parameters"/> and the state
    /// buffers; reads <paramref name="gradients"/> (unchanged). Increments <see cref="StepCount"/> first, so the
    /// first step is k = 1. Allocates nothing.
    /// </summary>
    /// <param name="parameters">The flat parameters, <see cref="ParameterCount"/> elements; updated in place.</param>
    /// <param name="gradients">∂E/∂W of the data loss in the same layout, without the regulariser (the pass adds
    /// it); must not overlap the parameters.</param>
    /// <param name="learningRate">η ≥ 0 for this step (from a learning-rate schedule).</param>
    /// <param name="gradientScale">Factor applied to every gradient element first, e.g. the global-norm clipping
    /// factor of <see cref="GradientClipping.ScaleForMaxNorm{T}(double, double)"/>; finite and ≥ 0.</param>
    /// <exception cref="ArgumentException">A span length differs from <see cref="ParameterCount"/>, or the spans overlap.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate or the gradient scale is negative, NaN or
    /// infinite (a NaN scale means the gradient norm was not finite: training has diverged).</exception>
    public void Step(Span<T> parameters, ReadOnlySpan<T> gradients, T learningRate, T gradientScale)
    {
        if (parameters.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(parameters), ParameterCount, parameters.Length);
        if (gradients.Length != ParameterCount) ThrowHelper.ThrowLengthMismatch(nameof(gradients), ParameterCount, gradients.Length);
        if (parameters.Overlaps(gradients)) ThrowHelper.ThrowArgument(nameof(gradients), "The gradients must not overlap the parameters.");
        if (!T.IsFinite(learningRate) || T.IsNegative(learningRate))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(learningRate), "The learning rate must be finite and non-negative.");
        if (!T.IsFinite(gradientScale) || T.IsNegative(gradientScale))
            ThrowHelper.ThrowArgumentOutOfRange(nameof(gradientScale),
                "The gradient scale must be finite and non-negative; a NaN scale comes from a gradient whose norm is NaN or infinite, i.e. training diverged.");
        _stepCount++;
        fixed (T* p = parameters)
        fixed (T* g = gradients)
        fixed (T* s0 = _s0)
        fixed (T* s1 = _s1)
        fixed (T* s2 = _s2)
        {
            StepCore(p, g, s0, s1, s2, learningRate, gradientScale);
        }
    }

    /// <summary>Clears the state to its initial values (zero moments and accumulators, unit gains) and sets <see cref="StepCount"/> to 0.</summary>
    public void Reset()
    {
        Array.Clear(_s0);
        Array.Clear(_s1);
        Array.Clear(_s2);
        _stepCount = 0;
        InitializeState();
    }

    /// <summary>Sets non-zero initial state values (the state buffers are zero when this runs).</summary>
    private protected virtual void InitializeState() { }

    /// <summary>The rule of the optimiser: build its operator for this step and call <see cref="Run{TOp}"/>.</summary>
    private protected abstract void StepCore(T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale);

    /// <summary>Runs the operator over every segment of the regularisation plan with that segment's terms.</summary>
    private protected void Run<TOp>(in TOp op, T* p, T* g, T* s0, T* s1, T* s2, T learningRate, T gradientScale)
        where TOp : struct, IUpdateOperator<T>
    {
        RegularizationPlan plan = Regularization;
        T clip = T.CreateSaturating(_clipValue);
        var plain = new GradientTerms<T>(gradientScale, clip, T.Zero, T.Zero, T.One);
        var regularized = new GradientTerms<T>(gradientScale, clip, T.CreateTruncating(plan.L1), T.CreateTruncating(2 * plan.L2),
            T.CreateTruncating(1 - double.CreateTruncating(learningRate) * WeightDecay));
        foreach (RegularizationPlan.Segment s in plan.Segments)
        {
            nint o = s.Offset;
            UpdateDriver.Run(op, s.Regularized ? regularized : plain, p + o, g + o, s0 + o, s1 + o, s2 + o, s.Length, Path);
        }
    }

    /// <summary>Validates a hyper-parameter that must lie in [0, 1).</summary>
    private protected static void CheckUnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1)) ThrowHelper.ThrowArgumentOutOfRange(name, $"{name} must be in [0, 1) (got {value}).");
    }

    /// <summary>Validates a hyper-parameter that must be finite and positive.</summary>
    private protected static void CheckPositive(double value, string name)
    {
        if (!(value > 0 && double.IsFinite(value))) ThrowHelper.ThrowArgumentOutOfRange(name, $"{name} must be finite and positive (got {value}).");
    }

    /// <summary>Validates a hyper-parameter that must be finite and non-negative.</summary>
    private protected static void CheckNonNegative(double value, string name)
    {
        if (!(value >= 0 && double.IsFinite(value))) ThrowHelper.ThrowArgumentOutOfRange(name, $"{name} must be finite and non-negative (got {value}).");
    }
}
