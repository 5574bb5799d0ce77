using System.Reflection;
using Rnn.Simd.Cells;
using Rnn.Simd.Cli.Commands;
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
    /// (<see cref="TrainerKinds.SharedOptions"/>). An option that some trainer lists is refused with any trainer that
    /// does not list it.
    /// </summary>
    public abstract IReadOnlyList<string> Options { get; }

    /// <summary>Parses this trainer's options (the shared ones are in <paramref name="common"/>) into a plan, or an error naming the option.</summary>
    public abstract ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan);
}

/// <summary>What a parsed <c>--trainer</c> does: the members' architecture and each member's library trainer.</summary>
public abstract class TrainerPlan
{
    /// <summary>The trainer that made this plan.</summary>
    public abstract TrainerKind Kind { get; }

    /// <summary>A member's architecture for data of <paramref name="inputSize"/> inputs and <paramref name="outputSize"/> outputs (default: --cell, --hidden, --layers, --depth).</summary>
    public virtual NetworkArchitecture Architecture(TrainOptions o, int inputSize, int outputSize) =>
        NetworkArchitecture.Uniform(o.Cell, inputSize, o.Hidden, o.Layers, outputSize, Activation.Tanh, o.Depth);

    /// <summary>The library trainer of ensemble member <paramref name="member"/> (seed <paramref name="seed"/>) on its freshly initialised network.</summary>
    public abstract INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed);

    /// <summary>Epochs (passes, generations) the progress bar counts to; 1 for a trainer that fits in one pass.</summary>
    public virtual int Epochs(TrainOptions o) => o.Epochs;

    /// <summary>The trainer's settings for the report and the model's metadata (name = value, in a fixed order).</summary>
    public virtual IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) => [];
}

/// <summary>The registry of <c>--trainer</c> values and the option rules they share.</summary>
public static class TrainerKinds
{
    /// <summary>Every trainer, the default first.</summary>
    public static IReadOnlyList<TrainerKind> All { get; } = [new BpttTrainerKind()];

    /// <summary>The default, truncated BPTT.</summary>
    public static TrainerKind Default => All[0];

    /// <summary>The names, for messages: "bptt, rtrl, ...".</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Name));

    /// <summary>
    /// Options every trainer takes: the data, the forecasting task and its features, the output, the seed, the
    /// ensemble and the threads. Every other option belongs to the trainers that list it in <see cref="TrainerKind.Options"/>.
    /// </summary>
    public static IReadOnlySet<string> SharedOptions { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "--trainer", "--data", "--column", "--aggregate", "--header", "--no-header", "--separator", "--fill-gaps",
        "--mode", "--seasons", "--plot", "--quiet", "--json", "--horizon", "--features", "--seed", "--ensemble", "--out", "--threads",
    };

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
            if (SharedOptions.Contains(option) || kind.Options.Contains(option, StringComparer.Ordinal)) continue;
            string[] owners = All.Where(k => k.Options.Contains(option, StringComparer.Ordinal)).Select(k => k.Name).ToArray();
            return ValidationResult.Error(owners.Length == 0
                ? $"{option} is not an option of --trainer {kind.Name}."
                : $"{option} is an option of --trainer {string.Join(", ", owners)}; --trainer {kind.Name} has no such option.");
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
