using System.Globalization;
using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer cmaes</c>: every weight evolved by CMA-ES (Hansen 2016; sep-CMA-ES, Ros and Hansen 2008, for many
/// weights) through the library's <see cref="CmaEsTrainer{T}"/>; fitness a forward-only pass over the training part,
/// the population on every core (<c>--threads</c>, 0 = all), the same result for any thread count.
/// </summary>
internal sealed class CmaEsTrainerKind : TrainerKind
{
    /// <summary>The cell when --cell is not given.</summary>
    public const CellType DefaultCell = CellType.Lstm;

    /// <summary>Hidden units when --hidden is not given.</summary>
    public const int DefaultHidden = 8;

    /// <summary>Generations when --epochs is not given.</summary>
    public const int DefaultGenerations = 100;

    /// <summary>Generations without a better validation loss before stopping, when --patience is not given.</summary>
    public const int DefaultPatience = 30;

    /// <inheritdoc/>
    public override string Name => "cmaes";

    /// <inheritdoc/>
    public override string Summary => "every weight evolved by CMA-ES, full or separable (Hansen 2016; Ros and Hansen 2008)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
        ["--cell", "--depth", "--hidden", "--layers", "--epochs", "--patience", "--init", "--population", "--sigma", "--cma-variant", "--evaluations"];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        if (!(r = EvolutionSettings.Parse(settings, out EvolutionSettings e)).Successful) return r;
        var d = new CmaEsTrainerOptions();
        var options = d with
        {
            PopulationSize = e.Population, InitialSigma = e.Sigma ?? d.InitialSigma, Variant = e.Variant, MaxEvaluations = e.Evaluations,
            MaxGenerations = settings.Epochs is null ? DefaultGenerations : common.Epochs,
            Patience = settings.Patience is null ? DefaultPatience : common.Patience,
            Threads = common.Threads,
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options, settings.Cell is null ? DefaultCell : common.Cell, settings.Hidden is null ? DefaultHidden : common.Hidden);
        return ValidationResult.Success();
    }

    private sealed class Plan(CmaEsTrainerKind kind, CmaEsTrainerOptions options, CellType cell, int hidden) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override CellType? DefaultCell => cell;

        public override int? DefaultHidden => hidden;

        public override int Epochs(TrainOptions o) => options.MaxGenerations;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new CmaEsTrainer<float>(network, options with { Seed = seed }));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("population", options.PopulationSize is int p ? p.ToString(CultureInfo.InvariantCulture) : "default"),
            new("sigma", F(options.InitialSigma)), new("variant", options.Variant.ToString().ToLowerInvariant()),
            new("generations", options.MaxGenerations.ToString(CultureInfo.InvariantCulture)),
        ];
    }
}
