using System.Reflection;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// One way of setting the network's weights that <c>rnn-simd train --trainer NAME</c> offers: its name, the options
/// that belong to it, how it parses them, the architecture of its members and the library trainer of each member.
/// Adding a trainer is one file beside this one and one line in <see cref="TrainerKinds.All"/>.
/// </summary>
public abstract class TrainerKind
{
    /// <summary>The value of <c>--trainer</c>.</summary>
    public abstract string Name { get; }

    /// <summary>One line for the help and the README: the method and its source.</summary>
    public abstract string Summary { get; }

    /// <summary>
    /// The options of <c>train</c> (long names with their dashes) this trainer takes beyond the ones every trainer takes
    /// (<see cref="TrainerKinds.SharedOptions"/>: those no trainer lists). An option that some trainer lists is refused
    /// with any trainer that does not list it.
    /// </summary>
    public abstract IReadOnlyList<string> Options { get; }

    /// <summary>A library options record's own check (<c>Validate()</c>) as a parse result naming the trainer.</summary>
    protected static ValidationResult Check(string trainer, Action validate)
    {
        ArgumentNullException.ThrowIfNull(validate);
        try
        {
            validate();
            return ValidationResult.Success();
        }
        catch (ArgumentException e)
        {
            return ValidationResult.Error($"--trainer {trainer}: {CliApp.WithoutParamName(e)}");
        }
    }

    /// <summary>Formats a number for <see cref="TrainerPlan.Describe"/>.</summary>
    protected static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses this trainer's options (the shared ones are in <paramref name="common"/>) into a plan, or an error naming the option.</summary>
    public abstract ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan);
}

/// <summary>What a parsed <c>--trainer</c> does: the members' architecture and each member's library trainer.</summary>
public abstract class TrainerPlan
{
    /// <summary>The trainer that made this plan.</summary>
    public abstract TrainerKind Kind { get; }

    /// <summary>The cell this trainer uses when --cell is not given (null: the tool's default), written into <see cref="TrainOptions.Cell"/>.</summary>
    public virtual CellType? DefaultCell => null;

    /// <summary>The hidden size this trainer uses when --hidden is not given (null: the tool's default), written into <see cref="TrainOptions.Hidden"/>.</summary>
    public virtual int? DefaultHidden => null;

    /// <summary>A member's architecture for data of <paramref name="inputSize"/> inputs and <paramref name="outputSize"/> outputs (default: --cell, --hidden, --layers, --depth).</summary>
    public virtual NetworkArchitecture Architecture(TrainOptions o, int inputSize, int outputSize) =>
        NetworkArchitecture.Uniform(o.Cell, inputSize, o.Hidden, o.Layers, outputSize, Activation.Tanh, o.Depth);

    /// <summary>The library trainer of ensemble member <paramref name="member"/> (seed <paramref name="seed"/>) on its freshly initialised network.</summary>
    public abstract INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed);

    /// <summary>Members of the seed ensemble when --ensemble is not given (on the embedded data, or on a file).</summary>
    public virtual int DefaultEnsemble(bool embeddedData) => 1;

    /// <summary>Epochs (passes, generations) the progress bar counts to; 1 for a trainer that fits in one pass.</summary>
    public virtual int Epochs(TrainOptions o) => o.Epochs;

    /// <summary>The trainer's settings for the report and the model's metadata (name = value, in a fixed order).</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) => [];

    /// <summary>
    /// Builds a library trainer, turning its refusal of the network or the options (an <see cref="ArgumentException"/>:
    /// an RTRL network too large for memory, a cell the method does not take, ...) into a usage error of the tool (one
    /// line, exit code 2) that names the trainer.
    /// </summary>
    protected INetworkTrainer<float> Build(Func<INetworkTrainer<float>> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException($"--trainer {Kind.Name}: {CliApp.WithoutParamName(e)}");
        }
    }
}

/// <summary>The registry of <c>--trainer</c> values and the option rules they share.</summary>
public static class TrainerKinds
{
    /// <summary>Every trainer, the default first.</summary>
    public static IReadOnlyList<TrainerKind> All { get; } =
        [new BpttTrainerKind(), new RtrlTrainerKind(), new EkfTrainerKind(), new CmaEsTrainerKind(), new EvolinoTrainerKind(), new EsnTrainerKind(), new RandomSearchTrainerKind()];

    /// <summary>The default, truncated BPTT.</summary>
    public static TrainerKind Default => All[0];

    /// <summary>The names, for messages: "bptt, rtrl, ...".</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Name));

    /// <summary>
    /// The options no trainer lists, which every trainer takes: the data, the forecasting task and its features, the
    /// output, the seed, the ensemble and the threads (any option that no <see cref="TrainerKind.Options"/> names).
    /// </summary>
    public static IEnumerable<string> SharedOptions(IEnumerable<string> allOptions) =>
        allOptions.Where(option => !All.Any(k => k.Options.Contains(option, StringComparer.Ordinal)));

    /// <summary>The trainer named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static TrainerKind? Find(string name) =>
        All.FirstOrDefault(k => string.Equals(k.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Refuses an option given on the command line that belongs to other trainers only: "--ridge is an option of
    /// --trainer esn, evolino; --trainer bptt has no such option."
    /// </summary>
    public static ValidationResult CheckOptions(TrainerKind kind, IEnumerable<string> given)
    {
        foreach (string option in given)
        {
            if (kind.Options.Contains(option, StringComparer.Ordinal)) continue;
            string[] owners = All.Where(k => k.Options.Contains(option, StringComparer.Ordinal)).Select(k => k.Name).ToArray();
            // An option no trainer lists is shared by all of them.
            if (owners.Length == 0) continue;
            return ValidationResult.Error($"{option} is an option of --trainer {string.Join(", ", owners)}; --trainer {kind.Name} has no such option.");
        }
        return ValidationResult.Success();
    }

    /// <summary>The long names (with dashes) of the options set on <paramref name="settings"/>: a value given, or a flag set.</summary>
    public static IEnumerable<string> GivenOptions(CommandSettings settings)
    {
        foreach (PropertyInfo p in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetCustomAttribute<CommandOptionAttribute>() is not { } option || option.LongNames.Count == 0) continue;
            object? value = p.GetValue(settings);
            if (value is null || value is false) continue;
            yield return "--" + option.LongNames[0];
        }
    }
}
