using Rnn.Simd.Cli.Commands;
using Spectre.Console.Cli;

namespace Rnn.Simd.Tests.Cli;

/// <summary>Binds a <c>train</c> command line to <see cref="TrainSettings"/> exactly as the tool does (Spectre, strict
/// parsing, validation included) without running it.</summary>
internal static class TrainCommandLine
{
    private sealed class Capture
    {
        public TrainSettings? Settings;
    }

    private sealed class CaptureCommand(Capture capture) : Command<TrainSettings>
    {
        public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken)
        {
            capture.Settings = settings;
            return 0;
        }
    }

    /// <summary>Binds <c>train ARGS</c> to TrainSettings with Spectre (validation included) and returns the parsed options.</summary>
    public static TrainOptions Parse(params string[] args)
    {
        var capture = new Capture();
        var app = new CommandApp();
        app.Configure(c =>
        {
            c.Settings.Registrar.RegisterInstance(capture);
            c.PropagateExceptions();
            c.UseStrictParsing();
            c.AddCommand<CaptureCommand>("train");
        });
        Assert.Equal(0, app.Run(["train", .. args]));
        return capture.Settings!.Options;
    }

}
