using System.Globalization;
using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer random</c>: the chapter's random-guess baseline (Hochreiter and Schmidhuber 1997 report that random
/// guessing solves some long-lag benchmarks): whole weight vectors drawn at random, the best by validation kept, through
/// the library's <see cref="RandomSearchTrainer{T}"/>. A floor for the other trainers, not a method to use.
/// </summary>
internal sealed class RandomSearchTrainerKind : TrainerKind
{
    /// <inheritdoc/>
    public override string Name => "random";

    /// <inheritdoc/>
    public override string Summary => "random guessing of every weight, the best kept: the chapter's baseline for the other trainers";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } = ["--cell", "--depth", "--hidden", "--layers", "--epochs", "--patience", "--population", "--evaluations"];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        if (!(r = OptionValues.ParseInt("--population", settings.Population, 2, 1_000_000, out int? population)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--evaluations", settings.Evaluations, 2, int.MaxValue, out int? evaluations)).Successful) return r;
        var d = new RandomSearchTrainerOptions();
        var options = d with
        {
            PopulationSize = population ?? d.PopulationSize, MaxEvaluations = evaluations,
            MaxGenerations = settings.Epochs is null ? CmaEsTrainerKind.DefaultGenerations : common.Epochs,
            Patience = settings.Patience is null ? d.Patience : common.Patience, Threads = common.Threads,
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options, settings.Cell is null ? CmaEsTrainerKind.DefaultCell : common.Cell,
            settings.Hidden is null ? CmaEsTrainerKind.DefaultHidden : common.Hidden);
        return ValidationResult.Success();
    }

    private sealed class Plan(RandomSearchTrainerKind kind, RandomSearchTrainerOptions options, CellType cell, int hidden) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override CellType? DefaultCell => cell;

        public override int? DefaultHidden => hidden;

        public override int Epochs(TrainOptions o) => options.MaxGenerations;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new RandomSearchTrainer<float>(network, options with { Seed = seed }));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("population", options.PopulationSize.ToString(CultureInfo.InvariantCulture)),
            new("generations", options.MaxGenerations.ToString(CultureInfo.InvariantCulture)),
        ];
    }
}
