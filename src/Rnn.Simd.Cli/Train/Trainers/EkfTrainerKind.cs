using System.Globalization;
using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer ekf</c>: extended Kalman filter training (Puskorius and Feldkamp 1994; Haykin 2001, ch. 2) through the
/// library's <see cref="EkfTrainer{T}"/>: the weights are the filter's state, the output Jacobian comes from truncated
/// BPTT(h), R and Q are annealed over the epochs; node-decoupled by default, global on request.
/// </summary>
internal sealed class EkfTrainerKind : TrainerKind
{
    /// <summary>Hidden units when --hidden is not given (the covariance grows with the square of the weights per node).</summary>
    public const int DefaultHidden = 16;

    /// <summary>Epochs when --epochs is not given.</summary>
    public const int DefaultEpochs = 10;

    /// <inheritdoc/>
    public override string Name => "ekf";

    /// <inheritdoc/>
    public override string Summary => "extended Kalman filter: the weights as the state, decoupled or global, Jacobian by truncated BPTT (Puskorius and Feldkamp 1994; Haykin 2001)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
    [
        "--cell", "--depth", "--hidden", "--layers", "--epochs", "--patience", "--init", "--update-every",
        "--ekf-variant", "--ekf-r", "--ekf-r-final", "--ekf-q", "--ekf-q-final", "--ekf-p0", "--ekf-depth",
    ];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        var d = new EkfOptions();
        EkfVariant variant = d.Variant;
        if (settings.EkfVariant is not null)
        {
            string v = settings.EkfVariant.Trim().ToLowerInvariant();
            if (v is "global" or "gekf") variant = EkfVariant.Global;
            else if (v is "decoupled" or "node-decoupled" or "ndekf") variant = EkfVariant.NodeDecoupled;
            else return ValidationResult.Error($"--ekf-variant must be decoupled or global, got '{settings.EkfVariant}'.");
        }
        if (!(r = OptionValues.ParsePositiveDouble("--ekf-r", settings.EkfR, double.MaxValue, out double? r0)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--ekf-r-final", settings.EkfRFinal, double.MaxValue, out double? r1)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--ekf-q", settings.EkfQ, 0, double.MaxValue, false, out double? q0)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--ekf-q-final", settings.EkfQFinal, 0, double.MaxValue, false, out double? q1)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--ekf-p0", settings.EkfP0, double.MaxValue, out double? p0)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--ekf-depth", settings.EkfDepth, 1, 100_000, out int? depth)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--update-every", settings.UpdateEvery, 1, 100_000, out int? every)).Successful) return r;
        var options = d with
        {
            Variant = variant,
            MeasurementNoise = r0 ?? d.MeasurementNoise, FinalMeasurementNoise = r1 ?? d.FinalMeasurementNoise,
            ProcessNoise = q0 ?? d.ProcessNoise, FinalProcessNoise = q1 ?? d.FinalProcessNoise,
            InitialCovariance = p0 ?? d.InitialCovariance, TruncationDepth = depth ?? d.TruncationDepth, UpdateEvery = every ?? d.UpdateEvery,
            Epochs = settings.Epochs is null ? DefaultEpochs : common.Epochs,
            Patience = settings.Patience is null ? d.Patience : common.Patience,
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options, settings.Hidden is null ? DefaultHidden : common.Hidden);
        return ValidationResult.Success();
    }

    private sealed class Plan(EkfTrainerKind kind, EkfOptions options, int hidden) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override int? DefaultHidden => hidden;

        public override int Epochs(TrainOptions o) => options.Epochs;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new EkfTrainer<float>(network, options));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("variant", options.Variant == EkfVariant.Global ? "global" : "decoupled"),
            new("r", F(options.MeasurementNoise)), new("rFinal", F(options.FinalMeasurementNoise)),
            new("q", F(options.ProcessNoise)), new("qFinal", F(options.FinalProcessNoise)), new("p0", F(options.InitialCovariance)),
            new("depth", options.TruncationDepth.ToString(CultureInfo.InvariantCulture)),
            new("updateEvery", options.UpdateEvery.ToString(CultureInfo.InvariantCulture)),
            new("epochs", options.Epochs.ToString(CultureInfo.InvariantCulture)),
        ];
    }
}
