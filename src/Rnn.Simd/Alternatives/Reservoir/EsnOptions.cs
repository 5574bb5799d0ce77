namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// Hyper-parameters of an echo state network (Jaeger 2001, "The 'echo state' approach to analysing and training
/// recurrent neural networks", GMD Report 148; Lukoševičius and Jaeger 2009, Computer Science Review 3(3);
/// Lukoševičius 2012, "A Practical Guide to Applying Echo State Networks", in Neural Networks: Tricks of the Trade,
/// §3 for the reservoir parameters, §4 for the readout). Immutable; <see cref="Validate"/> names a bad option.
/// </summary>
/// <remarks>
/// The reservoir: W (Units x Units) has each entry non-zero with probability <see cref="Density"/>, drawn uniform in
/// [-0.5, 0.5], then rescaled so that its spectral radius ρ(W) is <see cref="SpectralRadius"/> (Lukoševičius 2012
/// §3.2.4); W_in (Units x inputs) uniform in [-InputScaling, InputScaling] (or ±InputScaling with
/// <see cref="BinaryInputWeights"/>), the bias b uniform in [-BiasScaling, BiasScaling] (likewise), and with
/// <see cref="OutputFeedback"/> the feedback columns W_fb (Units x outputs) scaled by <see cref="FeedbackScaling"/>.
/// Update (Lukoševičius 2012 Eq. 2-3): x̃(n) = tanh(W_in u(n) + W x(n-1) + b), x(n) = (1 - a) x(n-1) + a x̃(n), a =
/// <see cref="LeakRate"/>.
/// </remarks>
public sealed record EsnOptions
{
    /// <summary>N_x, the reservoir size (hidden units). Default 500.</summary>
    public int Units { get; init; } = 500;

    /// <summary>Fraction of non-zero entries of W, in (0, 1]. Default 0.05 (Lukoševičius 2012 §3.2.2: sparse, a
    /// fixed small number of connections per unit; also what keeps the sparse step fast).</summary>
    public double Density { get; init; } = 0.05;

    /// <summary>ρ(W) after rescaling, &gt; 0 (&lt; 1 is the usual echo-state-property heuristic, §3.2.4). Default 0.95.</summary>
    public double SpectralRadius { get; init; } = 0.95;

    /// <summary>Scale of the input weights W_in, ≥ 0 (§3.2.5). Default 0.5.</summary>
    public double InputScaling { get; init; } = 0.5;

    /// <summary>Scale of the bias b, ≥ 0. Default 0.1.</summary>
    public double BiasScaling { get; init; } = 0.1;

    /// <summary>Draw W_in and b as ±scale with equal probability instead of uniform in [-scale, scale] (the study
    /// authors' reservoir does this). Default false.</summary>
    public bool BinaryInputWeights { get; init; }

    /// <summary>Leaking rate a in (0, 1] (§3.2.6); 1 is the plain tanh reservoir (an Elman network), below 1 the
    /// leaky-integrator reservoir (a highway cell with its transform gate fixed at a). Default 1.</summary>
    public double LeakRate { get; init; } = 1.0;

    /// <summary>The ridge (Tikhonov) parameter λ ≥ 0 of the readout (§4.1 Eq. 9). Default 1e-2 (a Gram matrix over
    /// thousands of steps of tanh states is large; λ is relative to it). The bias column is not regularised.</summary>
    public double Ridge { get; init; } = 1e-2;

    /// <summary>Further λ values tried when validation data is given; the validation-best is kept (the Gram matrix is
    /// accumulated once, each λ costs one Cholesky). Null or empty: only <see cref="Ridge"/>.</summary>
    public IReadOnlyList<double>? RidgeCandidates { get; init; }

    /// <summary>Initial steps of the training sequence whose states are not used in the readout fit (their weight is 0),
    /// ≥ 0 (§4.1: the initial transient). Default 100.</summary>
    public int Washout { get; init; } = 100;

    /// <summary>Seed of the reservoir's generator. Member k of an ensemble uses Seed + k (<see cref="ForMember"/>). Default 1.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Reservoirs of an ensemble, ≥ 1: the caller trains one network per member (<see cref="ForMember"/>) and
    /// averages their outputs (Lukoševičius 2012 §3.2.1 recommends averaging over several random reservoirs). Default 1.</summary>
    public int Members { get; init; } = 1;

    /// <summary>Feed the previous output back into the reservoir as extra input columns (Jaeger 2001 §2; Lukoševičius
    /// 2012 §8.3): the network then takes [u(n); y(n-1)] (input size I + O); harvesting feeds the teacher's y(n-1),
    /// a generative run (<see cref="EchoStateNetwork.RunGenerative{T}"/>) its own. Meaningful when the target is the
    /// next value of a signal the model should continue (not for h-step-ahead targets, whose y(n-1) lies in the
    /// future). Default false.</summary>
    public bool OutputFeedback { get; init; }

    /// <summary>Scale of the feedback weights W_fb, ≥ 0 (uniform in [-scale, scale]). Default 1.</summary>
    public double FeedbackScaling { get; init; } = 1.0;

    /// <summary>Fit the readout over [x(n); u(n); 1] (the classic ESN readout, Lukoševičius 2012 Eq. 4) instead of
    /// [x(n); 1]: the network then has the input-to-output readout term (<see cref="Network.NetworkArchitecture.InputToOutput"/>,
    /// readout.input_weight), which holds the u(n) part (with output feedback, the feedback columns too). Default false.</summary>
    public bool DirectInputReadout { get; init; }

    /// <summary>The options of ensemble member <paramref name="member"/> (0-based): the same, with Seed + member.</summary>
    public EsnOptions ForMember(int member)
    {
        if (member < 0 || member >= Members) throw new ArgumentOutOfRangeException(nameof(member), member, $"Member must be in [0, {Members}).");
        return this with { Seed = Seed + (ulong)member };
    }

    /// <summary>Throws when an option is out of range, naming it and its value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (Units < 1) Throw(nameof(Units), Units, "must be at least 1");
        if (!(Density > 0 && Density <= 1)) Throw(nameof(Density), Density, "must be in (0, 1]");
        if (!(SpectralRadius > 0) || double.IsPositiveInfinity(SpectralRadius)) Throw(nameof(SpectralRadius), SpectralRadius, "must be finite and > 0");
        if (!(InputScaling >= 0) || double.IsPositiveInfinity(InputScaling)) Throw(nameof(InputScaling), InputScaling, "must be finite and >= 0");
        if (!(BiasScaling >= 0) || double.IsPositiveInfinity(BiasScaling)) Throw(nameof(BiasScaling), BiasScaling, "must be finite and >= 0");
        if (!(LeakRate > 0 && LeakRate <= 1)) Throw(nameof(LeakRate), LeakRate, "must be in (0, 1]");
        if (!(Ridge >= 0) || double.IsPositiveInfinity(Ridge)) Throw(nameof(Ridge), Ridge, "must be finite and >= 0");
        if (RidgeCandidates is not null)
        {
            for (int i = 0; i < RidgeCandidates.Count; i++)
            {
                double r = RidgeCandidates[i];
                if (!(r >= 0) || double.IsPositiveInfinity(r)) Throw(nameof(RidgeCandidates), r, $"entry {i} must be finite and >= 0");
            }
        }
        if (Washout < 0) Throw(nameof(Washout), Washout, "must be >= 0");
        if (Members < 1) Throw(nameof(Members), Members, "must be at least 1");
        if (!(FeedbackScaling >= 0) || double.IsPositiveInfinity(FeedbackScaling)) Throw(nameof(FeedbackScaling), FeedbackScaling, "must be finite and >= 0");
    }

    private static void Throw(string name, object value, string rule) =>
        throw new ArgumentOutOfRangeException(name, value, $"ESN option {name} {rule}; got {value}.");
}
