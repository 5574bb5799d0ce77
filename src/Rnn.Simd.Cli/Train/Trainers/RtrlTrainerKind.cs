using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer rtrl</c>: real-time recurrent learning (Williams and Zipser 1989) through the library's
/// <see cref="RtrlTrainer{T}"/>: exact online gradients from forward sensitivities, an optimiser update every
/// <c>--update-every</c> steps, validation early stopping per epoch.
/// </summary>
internal sealed class RtrlTrainerKind : TrainerKind
{
    /// <summary>Hidden units when --hidden is not given: the sensitivities cost O(H⁴) per step.</summary>
    public const int DefaultHidden = 16;

    /// <summary>Epochs when --epochs is not given.</summary>
    public const int DefaultEpochs = 20;

    /// <inheritdoc/>
    public override string Name => "rtrl";

    /// <inheritdoc/>
    public override string Summary => "real-time recurrent learning: exact online gradients from forward sensitivities (Williams and Zipser 1989)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
        ["--cell", "--hidden", "--layers", "--epochs", "--patience", "--lr", "--optimizer", "--clip", "--l1", "--l2", "--init", "--update-every"];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        if (!(r = OptionValues.ParseInt("--update-every", settings.UpdateEvery, 1, int.MaxValue, out int? every)).Successful) return r;
        var options = new RtrlOptions
        {
            UpdateEvery = every ?? 1,
            Optimizer = common.Optimizer,
            LearningRate = settings.LearningRate is null ? new RtrlOptions().LearningRate : common.LearningRate,
            Regularization = new Training.Regularization.RegularizationOptions(common.L1, common.L2),
            ClipNorm = common.Clip,
            Epochs = settings.Epochs is null ? DefaultEpochs : common.Epochs,
            Patience = settings.Patience is null ? new RtrlOptions().Patience : common.Patience,
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options, settings.Hidden is null ? DefaultHidden : common.Hidden);
        return ValidationResult.Success();
    }

    private sealed class Plan(RtrlTrainerKind kind, RtrlOptions options, int hidden) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override int? DefaultHidden => hidden;

        public override int Epochs(TrainOptions o) => options.Epochs;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new RtrlTrainer<float>(network, options));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("updateEvery", options.UpdateEvery.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("optimizer", options.Optimizer.ToString()), new("lr", F(options.LearningRate)),
            new("epochs", options.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ];
    }
}
