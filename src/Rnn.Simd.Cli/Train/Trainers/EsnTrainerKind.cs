using System.Globalization;
using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>
/// <c>--trainer esn</c>: an echo state network (Jaeger 2001; Lukoševičius 2012) through the library's
/// <see cref="EsnTrainer{T}"/>: a sparse random reservoir of <c>--hidden</c> units that is never trained, the readout
/// fitted in closed form by ridge regression (λ chosen on the validation part among <c>--ridge</c>); with
/// <c>--ensemble M</c>, M reservoirs from seed + k averaged. The model is an ordinary Elman (leak 1) or depth-1
/// highway (leak &lt; 1) network.
/// </summary>
internal sealed class EsnTrainerKind : TrainerKind
{
    /// <summary>Reservoir units when --hidden is not given.</summary>
    public const int DefaultUnits = 500;

    /// <summary>λ tried when --ridge is not given (the validation-best is kept).</summary>
    public static IReadOnlyList<double> DefaultRidges { get; } = [1e-6, 1e-4, 1e-2, 1];

    /// <inheritdoc/>
    public override string Name => "esn";

    /// <inheritdoc/>
    public override string Summary => "echo state network: a fixed sparse random reservoir, the readout by ridge regression (Jaeger 2001; Lukoševičius 2012)";

    /// <inheritdoc/>
    public override IReadOnlyList<string> Options { get; } =
        ["--hidden", "--ridge", "--washout", "--density", "--spectral-radius", "--input-scaling", "--bias-scaling", "--leak", "--readout"];

    /// <inheritdoc/>
    public override ValidationResult Parse(TrainSettings settings, TrainOptions common, out TrainerPlan? plan)
    {
        plan = null;
        ValidationResult r;
        var d = new EsnOptions();
        double[] ridges = [.. DefaultRidges];
        if (settings.Ridge is not null)
        {
            string[] parts = settings.Ridge.Split(',', StringSplitOptions.TrimEntries);
            ridges = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!(r = OptionValues.ParseDouble("--ridge", parts[i], 0, double.MaxValue, false, out double? v)).Successful) return r;
                ridges[i] = v!.Value;
            }
        }
        if (!(r = OptionValues.ParseInt("--washout", settings.Washout, 0, int.MaxValue, out int? washout)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--density", settings.Density, 0, 1, true, out double? density)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--spectral-radius", settings.SpectralRadius, 1e6, out double? radius)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--input-scaling", settings.InputScaling, 0, 1e6, false, out double? inputScaling)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--bias-scaling", settings.BiasScaling, 0, 1e6, false, out double? biasScaling)).Successful) return r;
        if (!(r = OptionValues.ParseDouble("--leak", settings.Leak, 0, 1, true, out double? leak)).Successful) return r;
        string readout = (settings.Readout ?? "state-input").Trim().ToLowerInvariant();
        if (readout is not ("state-input" or "state")) return ValidationResult.Error($"--readout must be state-input or state, got '{settings.Readout}'.");
        var options = d with
        {
            Units = settings.Hidden is null ? DefaultUnits : common.Hidden,
            Ridge = ridges[0], RidgeCandidates = ridges.Length > 1 ? ridges[1..] : null,
            Washout = washout ?? d.Washout, Density = density ?? d.Density, SpectralRadius = radius ?? d.SpectralRadius,
            InputScaling = inputScaling ?? d.InputScaling, BiasScaling = biasScaling ?? d.BiasScaling, LeakRate = leak ?? d.LeakRate,
            DirectInputReadout = readout == "state-input",
        };
        if (!(r = Check(Name, options.Validate)).Successful) return r;
        plan = new Plan(this, options);
        return ValidationResult.Success();
    }

    private sealed class Plan(EsnTrainerKind kind, EsnOptions options) : TrainerPlan
    {
        public override TrainerKind Kind => kind;

        public override NetworkArchitecture Architecture(TrainOptions o, int inputSize, int outputSize) =>
            EchoStateNetwork.Architecture(options, inputSize, outputSize);

        // Reservoirs are cheap to fit: the default ensemble on the embedded data is BPTT's.
        public override int DefaultEnsemble(bool embeddedData) => embeddedData ? TrainSettings.DefaultEnsemble : 1;

        public override int Epochs(TrainOptions o) => 1 + (options.RidgeCandidates?.Count ?? 0);

        public override INetworkTrainer<float> Create(RecurrentNetwork<float> network, TrainOptions o, int member, ulong seed) =>
            Build(() => new EsnTrainer<float>(network, options with { Seed = seed }));

        public override IReadOnlyList<KeyValuePair<string, string>> Describe(TrainOptions o) =>
        [
            new("units", options.Units.ToString(CultureInfo.InvariantCulture)), new("density", F(options.Density)),
            new("spectralRadius", F(options.SpectralRadius)), new("inputScaling", F(options.InputScaling)),
            new("biasScaling", F(options.BiasScaling)), new("leak", F(options.LeakRate)),
            new("ridge", string.Join(",", new[] { options.Ridge }.Concat(options.RidgeCandidates ?? []).Select(F))),
            new("washout", options.Washout.ToString(CultureInfo.InvariantCulture)),
            new("readout", options.DirectInputReadout ? "state-input" : "state"),
        ];
    }
}
