using Spectre.Console;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>
/// Where a command writes: <see cref="Out"/> for its result (a table or exactly one JSON document), <see cref="Error"/>
/// for progress and errors, and <see cref="Console"/>, a Spectre console over <see cref="Out"/>, for tables.
/// Injected into every command, so tests run commands in process with captured writers.
/// </summary>
public sealed class CliOutput
{
    /// <summary>Creates the output over the two writers.</summary>
    public CliOutput(TextWriter stdout, TextWriter stderr)
    {
        Out = stdout;
        Error = stderr;
        // Escape codes only on the real, unredirected console; a captured writer or a pipe gets plain text.
        bool terminal = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(stdout),
        });
    }

    /// <summary>Standard output: results only.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: progress lines and error messages.</summary>
    public TextWriter Error { get; }

    /// <summary>Spectre console writing to <see cref="Out"/> (plain text when it is not a terminal).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Writes one progress line to stderr, prefixed with the tool name.</summary>
    public void Progress(string message)
    {
        Error.WriteLine($"rnn-simd: {message}");
        Error.Flush();
    }
}
