using System.Reflection;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>Name and version of the tool, as reported by <c>--version</c> and in JSON documents.</summary>
public static class ToolInfo
{
    /// <summary>The command name.</summary>
    public const string Name = "rnn-simd";

    /// <summary>The tool version (the package version, without a source-revision suffix), e.g. "0.1.0".</summary>
    public static string Version { get; } = ReadVersion();

    private static string ReadVersion()
    {
        string? informational = typeof(ToolInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational)) return typeof(ToolInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}
