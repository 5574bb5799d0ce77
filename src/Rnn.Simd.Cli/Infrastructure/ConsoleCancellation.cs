namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) into a cancellation request for a long command, which then stops at its next check
/// and still reports what it has; a second Ctrl+C ends the process as usual. Also follows the host's token
/// (<see cref="CliOutput.Cancellation"/>) and the command's. Dispose to unhook.
/// </summary>
public sealed class ConsoleCancellation : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly Action<string>? _notice;

    /// <summary>Hooks Ctrl+C and links the given tokens.</summary>
    /// <param name="notice">Called once (on the signal thread) with a line to show when Ctrl+C arrives.</param>
    /// <param name="tokens">Tokens that also cancel.</param>
    public ConsoleCancellation(Action<string>? notice, params CancellationToken[] tokens)
    {
        _notice = notice;
        _source = CancellationTokenSource.CreateLinkedTokenSource(tokens);
        Console.CancelKeyPress += OnCancelKeyPress;
    }

    /// <summary>Cancelled by Ctrl+C or by a linked token.</summary>
    public CancellationToken Token => _source.Token;

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested) return; // the second Ctrl+C terminates
        e.Cancel = true;
        _notice?.Invoke("cancelling: finishing the current window, then reporting the best model so far (Ctrl+C again to abort)");
        _source.Cancel();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _source.Dispose();
    }
}
