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
