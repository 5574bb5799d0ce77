using System.Globalization;
using Rnn.Simd.Alternatives.Evolino;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer evolino</c>: Evolino (Schmidhuber, Wierstra, Gagliolo and Gomez 2007) through the library's
/// <see cref="EvolinoTrainer{T}"/>: the hidden weights evolved by CMA-ES, the linear readout of each candidate fitted in
/// closed form by ridge regression, fitness on the held-out end of the training part.
/// </summary>
internal sealed class EvolinoTrainerKind : TrainerKind
{
    /// <summary>Hidden units when --hidden is not given.</summary>
    public const int DefaultHidden = 8;

    /// <summary>Generations when --epochs is not given.</summary>
    public const int DefaultGenerations = 100;

    /// <summary>Generations without a better validation loss before stopping, when --patience is not given.</summary>
    public const int DefaultPatience = 30;

    /// <inheritdoc/>
    public override string Name => "evolino";

    /// <inheritdoc/>
    public override string Summary => "Evolino: hidden weights evolved by CMA-ES, the readout by ridge regression per candidate (Schmidhuber et al. 2007)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
    [
        "--cell", "--depth", "--hidden", "--layers", "--epochs", "--patience", "--init", "--population", "--sigma", "--cma-variant", "--evaluations",
        "--ridge", "--washout", "--holdout",
    ];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        if (!(r = EvolutionSettings.Parse(settings, out EvolutionSettings e)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--ridge", settings.Ridge, 0, double.MaxValue, false, out double? ridge)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--washout", settings.Washout, 0, int.MaxValue, out int? washout)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--holdout", settings.Holdout, 0, 1, true, out double? holdout)).Successful) return r;
        if (holdout >= 1) return ValidationResult.Error($"--holdout must be below 1 (the readout needs a fit part), got {settings.Holdout}.");
        var d = new EvolinoOptions();
        var options = d with
        {
            PopulationSize = e.Population, InitialSigma = e.Sigma ?? d.InitialSigma, Variant = e.Variant, MaxEvaluations = e.Evaluations,
            MaxGenerations = settings.Epochs is null ? DefaultGenerations : common.Epochs,
            Patience = settings.Patience is null ? DefaultPatience : common.Patience,
            Threads = common.Threads, Ridge = ridge ?? d.Ridge, Washout = washout ?? d.Washout, HoldoutFraction = holdout ?? d.HoldoutFraction,
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options, settings.Cell is null ? CellType.Lstm : common.Cell, settings.Hidden is null ? DefaultHidden : common.Hidden);
        return ValidationResult.Success();
    }

    private sealed class Plan(EvolinoTrainerKind kind, EvolinoOptions options, CellType cell, int hidden) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override CellType? DefaultCell => cell;

        public override int? DefaultHidden => hidden;

        public override int Epochs(TrainOptions o) => options.MaxGenerations;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new EvolinoTrainer<float>(network, options with { Seed = seed }));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("population", options.PopulationSize is int p ? p.ToString(CultureInfo.InvariantCulture) : "default"),
            new("sigma", F(options.InitialSigma)), new("variant", options.Variant.ToString().ToLowerInvariant()),
            new("generations", options.MaxGenerations.ToString(CultureInfo.InvariantCulture)),
            new("ridge", F(options.Ridge)), new("washout", options.Washout.ToString(CultureInfo.InvariantCulture)), new("holdout", F(options.HoldoutFraction)),
        ];
    }
}
