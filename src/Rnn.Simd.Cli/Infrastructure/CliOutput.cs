using Spectre.Console;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>
/// Where a command writes: <see cref="Out"/> for its result (a table or exactly one JSON document), <see cref="Error"/>
/// for progress and errors, <see cref="Console"/>, a Spectre console over <see cref="Out"/>, for tables, and
/// <see cref="ErrorConsole"/>, one over <see cref="Error"/>, for live progress bars. Injected into every command, so
/// tests run commands in process with captured writers (and cancel them through <see cref="Cancellation"/>).
/// </summary>
public sealed class CliOutput
{
    /// <summary>Creates the output over the two writers.</summary>
    /// <param name="stdout">Results.</param>
    /// <param name="stderr">Progress and errors.</param>
    /// <param name="cancellation">Cancels long commands as Ctrl+C does (which is also honoured on the real console).</param>
    public CliOutput(TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        Out = stdout;
        Error = stderr;
        Cancellation = cancellation;
        // Escape codes only on the real, unredirected console; a captured writer or a pipe gets plain text.
        bool terminal = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        bool errorTerminal = ReferenceEquals(stderr, System.Console.Error) && !System.Console.IsErrorRedirected;
        Console = CreateConsole(stdout, terminal);
        ErrorConsole = CreateConsole(stderr, errorTerminal);
        // A live bar redraws lines in place: only when neither stream is redirected, so that a log never holds it.
        IsInteractive = terminal && errorTerminal;
    }

    /// <summary>Standard output: results only.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: progress lines and error messages.</summary>
    public TextWriter Error { get; }

    /// <summary>Spectre console writing to <see cref="Out"/> (plain text when it is not a terminal).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>Spectre console writing to <see cref="Error"/> (plain text when it is not a terminal).</summary>
    public IAnsiConsole ErrorConsole { get; }

    /// <summary>True when stdout and stderr are both the real, unredirected terminal: progress may be a live bar.</summary>
    public bool IsInteractive { get; }

    /// <summary>Cancellation requested by the host (tests); Ctrl+C is handled separately by <see cref="ConsoleCancellation"/>.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Writes one progress line to stderr, prefixed with the tool name.</summary>
    public void Progress(string message)
    {
        Error.WriteLine($"rnn-simd: {message}");
        Error.Flush();
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool terminal) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
        ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        Out = new AnsiConsoleOutput(writer),
    });
}
