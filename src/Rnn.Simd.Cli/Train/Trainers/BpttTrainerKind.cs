using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer bptt</c> (the default): gradient descent with truncated BPTT(τb, τf) (chapter §2.3, Eq. 2.5-2.8) through
/// the library's <see cref="Trainer{T}"/>, with every optimiser, regulariser, dropout, schedule and checkpoint option.
/// </summary>
internal sealed class BpttTrainerKind : TrainerKind
{
    /// <inheritdoc/>
    public override string Name => "bptt";

    /// <inheritdoc/>
    public override string Summary => "gradient descent with truncated backpropagation through time, BPTT(τb, τf) (chapter §2.3)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
    [
        "--cell", "--depth", "--hidden", "--layers", "--epochs", "--patience", "--lr", "--batch", "--window", "--bptt", "--optimizer",
        "--l1", "--l2", "--dropout-input", "--dropout-recurrent", "--dropout-output", "--clip", "--schedule", "--decay", "--decay-every",
        "--init", "--checkpoint", "--checkpoint-every", "--resume",
    ];

    /// <summary>The plan of the default trainer (its options are the shared fields of <see cref="TrainOptions"/>).</summary>
    public static TrainerPlan DefaultPlan { get; } = new Plan();

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = DefaultPlan;
        return ValidationResult.Success();
    }

    private sealed class Plan : TrainerPlan
    {
        public override TrainerKind Kind => TrainerKinds.Default;

        public override int DefaultEnsemble(bool embeddedData) => embeddedData ? TrainSettings.DefaultEnsemble : 1;

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            new Trainer<float>(network, TrainingRun.CreateTrainerOptions(o, member, seed));
    }
}
