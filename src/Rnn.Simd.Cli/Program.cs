using Rnn.Simd.Cli.Infrastructure;

namespace Rnn.Simd.Cli;

/// <summary>Entry point of the <c>rnn-simd</c> tool.</summary>
public static class Program
{
    /// <summary>Runs the tool on the process console.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the tool with the given arguments, writing results to <paramref name="stdout"/> and diagnostics
    /// (progress, errors) to <paramref name="stderr"/>; returns the process exit code (see <see cref="ExitCodes"/>).
    /// Never throws for bad input: errors become one line on stderr and a non-zero exit code.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, CancellationToken.None);

    /// <summary>
    /// As <see cref="Run(string[], TextWriter, TextWriter)"/>; cancelling <paramref name="cancellationToken"/> acts like
    /// Ctrl+C (a training run stops after its current window and reports the best model so far).
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        return CliApp.Run(args, new CliOutput(stdout, stderr, cancellationToken));
    }
}
