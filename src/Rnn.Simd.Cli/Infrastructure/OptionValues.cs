using System.Globalization;
using Spectre.Console;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>
/// Parsing of option values with messages that name the option. Commands take value options as strings and parse
/// them in <c>Validate</c> with these helpers, so that a bad or missing value becomes "--threads must be ..." with
/// exit code 2 rather than a type-converter message.
/// </summary>
public static class OptionValues
{
    // Spectre.Console.Cli 0.57 binds this placeholder to a value option given without a value ("--threads" last).
    private const string MissingValuePlaceholder = "__default_command";

    /// <summary>True when the option was given without a value.</summary>
    public static bool IsMissing(string? text) =>
        text is null || text.Length == 0 || string.Equals(text, MissingValuePlaceholder, StringComparison.Ordinal);

    /// <summary>Parses an optional integer option within [min, max]; null text means the option was absent.</summary>
    public static ValidationResult ParseInt(string option, string? text, int min, int max, out int? value)
    {
        value = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int parsed))
            return ValidationResult.Error($"{option} must be a whole number, got '{text}'.");
        if (parsed < min || parsed > max)
            return ValidationResult.Error($"{option} must be between {min} and {max}, got {parsed}.");
        value = parsed;
        return ValidationResult.Success();
    }

    /// <summary>Parses an optional unsigned 64-bit integer option (a seed); null text means the option was absent.</summary>
    public static ValidationResult ParseUInt64(string option, string? text, out ulong? value)
    {
        value = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed))
            return ValidationResult.Error($"{option} must be a whole number from 0 to {ulong.MaxValue}, got '{text}'.");
        value = parsed;
        return ValidationResult.Success();
    }

    /// <summary>Parses an optional positive, finite number option within (0, max]; null text means the option was absent.</summary>
    public static ValidationResult ParsePositiveDouble(string option, string? text, double max, out double? value)
    {
        value = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
            return ValidationResult.Error($"{option} must be a number such as 1e-6, got '{text}'.");
        if (parsed <= 0 || parsed > max)
            return ValidationResult.Error(FormattableString.Invariant($"{option} must be greater than 0 and at most {max}, got {parsed}."));
        value = parsed;
        return ValidationResult.Success();
    }

    /// <summary>
    /// Parses an optional finite number option within [min, max] (or (min, max] when <paramref name="minExclusive"/>);
    /// null text means the option was absent.
    /// </summary>
    public static ValidationResult ParseDouble(string option, string? text, double min, double max, bool minExclusive, out double? value)
    {
        value = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !double.IsFinite(parsed))
            return ValidationResult.Error($"{option} must be a number such as 0.5, got '{text}'.");
        if (parsed < min || (minExclusive && parsed == min) || parsed > max)
            return ValidationResult.Error(FormattableString.Invariant($"{option} must be {(minExclusive ? "greater than" : "at least")} {min} and at most {max}, got {parsed}."));
        value = parsed;
        return ValidationResult.Success();
    }

    /// <summary>
    /// Parses an optional comma-separated list of integers within [min, max] with between 1 and
    /// <paramref name="maxCount"/> entries ("5" or "5,4"); null text means the option was absent.
    /// </summary>
    public static ValidationResult ParseIntList(string option, string? text, int min, int max, int maxCount, out int[]? values)
    {
        values = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > maxCount)
            return ValidationResult.Error($"{option} takes at most {maxCount} comma-separated values, got '{text}'.");
        var parsed = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            ValidationResult r = ParseInt(option, parts[i].Length == 0 ? "" : parts[i], min, max, out int? v);
            if (!r.Successful) return parts[i].Length == 0 ? ValidationResult.Error($"{option} has an empty value in '{text}'.") : r;
            parsed[i] = v!.Value;
        }
        values = parsed;
        return ValidationResult.Success();
    }

    /// <summary>
    /// Parses an optional comma-separated list of names from <paramref name="allowed"/> (case-insensitive, duplicates
    /// ignored); returns them in the order of <paramref name="allowed"/>. Null text means the option was absent.
    /// </summary>
    public static ValidationResult ParseNameSet(string option, string? text, IReadOnlyList<string> allowed, out IReadOnlyList<string>? values)
    {
        values = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        var chosen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string? match = null;
            foreach (string name in allowed)
            {
                if (string.Equals(name, part, StringComparison.OrdinalIgnoreCase)) match = name;
            }
            if (match is null)
                return ValidationResult.Error($"{option} takes a comma-separated list of {string.Join(", ", allowed)}, got '{text}'.");
            chosen.Add(match);
        }
        var ordered = new List<string>();
        foreach (string name in allowed)
        {
            if (chosen.Contains(name)) ordered.Add(name);
        }
        values = ordered;
        return ValidationResult.Success();
    }

    /// <summary>Parses an optional enum option by name (case-insensitive, numbers rejected); null text means absent.</summary>
    public static ValidationResult ParseEnum<TEnum>(string option, string? text, out TEnum? value) where TEnum : struct, Enum
    {
        value = null;
        if (text is null) return ValidationResult.Success();
        if (IsMissing(text)) return ValidationResult.Error($"{option} needs a value.");
        string trimmed = text.Trim();
        if (trimmed.Length > 0 && char.IsLetter(trimmed[0]) && Enum.TryParse(trimmed, ignoreCase: true, out TEnum parsed)
            && Enum.IsDefined(parsed))
        {
            value = parsed;
            return ValidationResult.Success();
        }
        string names = string.Join(", ", Enum.GetNames<TEnum>()).ToLowerInvariant();
        return ValidationResult.Error($"{option} must be one of {names}, got '{text}'.");
    }
}
