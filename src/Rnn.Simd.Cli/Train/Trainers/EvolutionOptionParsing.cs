using Rnn.Simd.Alternatives.Evolution;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Infrastructure;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train.Trainers;

/// <summary>The CMA-ES options that <c>--trainer cmaes</c> and <c>--trainer evolino</c> share, parsed once.</summary>
/// <param name="Population">λ, or null for Hansen's default.</param>
/// <param name="Sigma">σ0, or null for the library's default.</param>
/// <param name="Variant">Covariance model.</param>
/// <param name="Evaluations">Evaluation budget, or null.</param>
internal readonly record struct EvolutionSettings(int? Population, double? Sigma, CmaEsVariant Variant, long? Evaluations)
{
    /// <summary>Parses --population, --sigma, --cma-variant and --evaluations.</summary>
    public static ValidationResult Parse(TrainSettings settings, out EvolutionSettings parsed)
    {
        parsed = default;
        ValidationResult r;
        if (!(r = OptionValues.ParseInt("--population", settings.Population, 2, 1_000_000, out int? population)).Successful) return r;
        if (!(r = OptionValues.ParsePositiveDouble("--sigma", settings.Sigma, 1e6, out double? sigma)).Successful) return r;
        if (!(r = OptionValues.ParseEnum("--cma-variant", settings.CmaVariant, out CmaEsVariant? variant)).Successful) return r;
        if (!(r = OptionValues.ParseInt("--evaluations", settings.Evaluations, 2, int.MaxValue, out int? evaluations)).Successful) return r;
        parsed = new EvolutionSettings(population, sigma, variant ?? CmaEsVariant.Auto, evaluations);
        return ValidationResult.Success();
    }
}
