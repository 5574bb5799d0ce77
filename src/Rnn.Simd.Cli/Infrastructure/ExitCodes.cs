namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>Process exit codes of <c>rnn-simd</c>; documented in README-cli.md.</summary>
public static class ExitCodes
{
    /// <summary>The command succeeded.</summary>
    public const int Success = 0;

    /// <summary>The command ran and failed (bad data, an unsupported machine, an I/O error).</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: unknown command or option, a missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>Cancelled by the user (Ctrl+C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}
