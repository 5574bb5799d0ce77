using System.Globalization;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Training;
using Spectre.Console;

namespace Rnn.Simd.Cli.Train;

/// <summary>
/// How training reports its epochs: a live Spectre.Console bar on an interactive terminal (epoch k/N, training and
/// validation loss, learning rate, elapsed time and ETA), plain lines on stderr when output is redirected or captured,
/// or nothing with <c>--quiet</c>. (The bar's ETA assumes the whole epoch budget; early stopping ends sooner.) <see cref="Run{T}"/> wraps the training call and hands it the per-epoch callback.
/// </summary>
public sealed class TrainProgress
{
    private readonly CliOutput _output;
    private readonly TrainProgressStyle _style;

    /// <summary>Chooses the style for this output: quiet, a bar (interactive terminal), or lines.</summary>
    public TrainProgress(CliOutput output, bool quiet)
    {
        _output = output ?? throw new ArgumentNullException(nameof(output));
        _style = quiet ? TrainProgressStyle.Quiet : output.IsInteractive ? TrainProgressStyle.Bar : TrainProgressStyle.Lines;
    }

    /// <summary>The style in use.</summary>
    public TrainProgressStyle Style => _style;

    /// <summary>Writes an informational line (not in quiet mode; above the bar when one is shown).</summary>
    public void Info(string message)
    {
        if (_style == TrainProgressStyle.Quiet) return;
        _output.Progress(message);
    }

    /// <summary>Runs <paramref name="work"/>, which calls the given callback after every epoch.</summary>
    /// <param name="maxEpochs">N, the epoch budget (the bar's length; early stopping may end sooner).</param>
    /// <param name="work">The training run.</param>
    public T Run<T>(int maxEpochs, Func<Action<EpochProgress>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        switch (_style)
        {
            case TrainProgressStyle.Quiet:
                return work(static _ => { });
            case TrainProgressStyle.Lines:
                return work(p => _output.Progress(Line(p)));
            default:
                return _output.ErrorConsole.Progress()
                    .AutoClear(false)
                    .HideCompleted(false)
                    // Fits an 80-column terminal: description (~45), bar, percentage, ETA, spinner.
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 14 }, new PercentageColumn(),
                        new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(ctx =>
                    {
                        ProgressTask task = ctx.AddTask(Markup.Escape(Invariant($"epoch 0/{maxEpochs}")), maxValue: maxEpochs);
                        T result = work(p =>
                        {
                            task.Description = Markup.Escape(Describe(p));
                            task.Value = p.Epoch;
                        });
                        // Early stopping ends before N epochs: show the bar complete.
                        task.Value = task.MaxValue;
                        task.StopTask();
                        return result;
                    });
        }
    }

    /// <summary>The plain progress line of an epoch.</summary>
    public static string Line(EpochProgress p) => Invariant(
        $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:E3} validation {p.ValidationLoss:E3} lr {p.LearningRate:G3}{(p.IsBest ? " *" : "")} ({p.Elapsed.TotalSeconds:F1} s)");

    private static string Describe(EpochProgress p) => Invariant(
        $"epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:0.0000} val {p.ValidationLoss:0.0000}{(p.IsBest ? "*" : " ")} lr {p.LearningRate:G2}");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How <see cref="TrainProgress"/> reports.</summary>
public enum TrainProgressStyle
{
    /// <summary>Nothing (<c>--quiet</c>).</summary>
    Quiet,

    /// <summary>One line per epoch on stderr.</summary>
    Lines,

    /// <summary>A live bar on the terminal's stderr.</summary>
    Bar,
}
