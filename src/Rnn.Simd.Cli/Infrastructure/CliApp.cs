using Rnn.Simd.Cli.Commands;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>
/// Builds the command tree and turns every failure into one line on stderr plus an exit code. A new command (train,
/// forecast, evaluate, gradcheck, ...) is one <c>AddCommand</c> line in <see cref="Configure"/> and one class in
/// Commands/; it takes a <see cref="CliOutput"/> in its constructor and throws <see cref="CliException"/> (or any
/// <see cref="ArgumentException"/>, <see cref="IOException"/>, ...) with a message for the user.
/// </summary>
public static class CliApp
{
    /// <summary>Parses and runs one command line; returns the exit code.</summary>
    public static int Run(string[] args, CliOutput output)
    {
        var app = new CommandApp();
        var started = new StartedInterceptor();
        app.Configure(config =>
        {
            config.SetInterceptor(started);
            Configure(config, output);
        });
        try
        {
            return app.Run(args);
        }
        catch (Exception e)
        {
            return Report(e, started.Started, output);
        }
    }

    private static void Configure(IConfigurator config, CliOutput output)
    {
        config.Settings.Registrar.RegisterInstance(output);
        config.SetApplicationName(ToolInfo.Name);
        config.SetApplicationVersion(ToolInfo.Version);
        config.ConfigureConsole(output.Console);
        // Errors are reported by Run as one line on stderr, never as Spectre's multi-line rendering or a stack trace.
        config.PropagateExceptions();
        config.UseStrictParsing();

        config.AddCommand<InfoCommand>("info")
            .WithDescription("Show the ISA path in use, vector width, cores, runtime, CPU model and the single-core FP32 peak.")
            .WithExample("info")
            .WithExample("info", "--json");
        config.AddCommand<BenchCommand>("bench")
            .WithDescription("Quick benchmark of this machine: FP32 peak, memory bandwidth, GEMM at RNN shapes, training windows and inference steps (about 25 s).")
            .WithExample("bench")
            .WithExample("bench", "--json")
            .WithExample("bench", "--threads", "8", "--isa", "vector128")
            .WithExample("bench", "--sections", "train,inference");
        config.AddCommand<TrainCommand>("train")
            .WithDescription("Train a recurrent network on the embedded ACEA Rome electricity load (hourly, 24 h ahead) or on a column of your CSV, and compare it with persistence and seasonal-naive baselines on the test set.")
            .WithExample("train")
            .WithExample("train", "--json")
            .WithExample("train", "--data", "load.csv", "--column", "load", "--plot", "plots")
            .WithExample("train", "--mode", "multi", "--horizon", "24")
            .WithExample("train", "--cell", "gru", "--hidden", "64", "--epochs", "50")
            .WithExample("train", "--out", "model.rnn", "--checkpoint", "run.ckpt")
            .WithExample("train", "--resume", "run.ckpt", "--out", "model.rnn");
        config.AddCommand<ForecastCommand>("forecast")
            .WithDescription("Load a model file (train --out) and forecast the next values after the end of a series (the embedded ACEA load or a column of your CSV), one-shot or generative, as CSV or JSON.")
            .WithExample("forecast", "--model", "model.rnn")
            .WithExample("forecast", "--model", "model.rnn", "--data", "load.csv", "--column", "load", "--format", "json")
            .WithExample("forecast", "--model", "h1.rnn", "--generative", "--steps", "48", "--output", "next.csv");
        config.AddCommand<EvaluateCommand>("evaluate")
            .WithDescription("Metrics (NRMSE, RMSE, MAE, MAPE) of a saved model on a part of a series' chronological 70/15/15 split, against persistence and seasonal-naive baselines.")
            .WithExample("evaluate", "--model", "model.rnn")
            .WithExample("evaluate", "--model", "model.rnn", "--part", "validation", "--json")
            .WithExample("evaluate", "--model", "model.rnn", "--data", "load.csv", "--column", "load");
        config.AddCommand<ExportCommand>("export")
            .WithDescription("Write a model file in another format: safetensors with PyTorch's state-dict names (nn.RNN/LSTM/GRU + nn.Linear), the scaler and forecast options in its metadata; or onnx (standard LSTM / GRU / RNN operators, runs in ONNX Runtime).")
            .WithExample("export", "--model", "model.rnn", "--format", "safetensors", "-o", "model.safetensors")
            .WithExample("export", "--model", "model.rnn", "-o", "model.safetensors", "--dtype", "f16", "--prefix", "lstm.", "--readout-prefix", "head.")
            .WithExample("export", "--model", "model.rnn", "--format", "onnx", "-o", "model.onnx");
        config.AddCommand<GradcheckCommand>("gradcheck")
            .WithDescription("Check analytic BPTT gradients against finite differences for every cell, 1 and 2 layers, three schedules (a few seconds).")
            .WithExample("gradcheck")
            .WithExample("gradcheck", "--json")
            .WithExample("gradcheck", "--hidden", "8,6", "--steps", "5", "--seed", "42");
    }

    private static int Report(Exception e, bool commandStarted, CliOutput output)
    {
        // Spectre wraps exceptions thrown while constructing or running a command; report the cause.
        while (e is CommandRuntimeException { InnerException: not null } || e is AggregateException { InnerException: not null }
            || e is System.Reflection.TargetInvocationException { InnerException: not null })
        {
            e = e.InnerException!;
        }

        (int code, string message) = e switch
        {
            OperationCanceledException => (ExitCodes.Cancelled, "cancelled"),
            CommandParseException or CommandRuntimeException or CliUsageException => (ExitCodes.Usage, e.Message),
            // Thrown while binding option values (a type converter rejecting a value), before the command ran.
            ArgumentException or FormatException or InvalidOperationException or NotSupportedException when !commandStarted =>
                (ExitCodes.Usage, "invalid option value: " + (e is ArgumentException ae && ae.ParamName is not null
                    ? ae.Message.Replace($" (Parameter '{ae.ParamName}')", "", StringComparison.Ordinal)
                    : e.Message)),
            CliException or ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException
                or Rnn.Simd.Training.TrainingDivergedException
                or PlatformNotSupportedException or NotSupportedException or InvalidOperationException
                or FormatException or OutOfMemoryException => (ExitCodes.Failure, WithoutParamName(e)),
            _ => (ExitCodes.Failure, $"{e.GetType().Name}: {e.Message}"),
        };
        output.Error.WriteLine($"{ToolInfo.Name}: error: {OneLine(message)}");
        if (string.Equals(Environment.GetEnvironmentVariable("RNN_SIMD_DEBUG"), "1", StringComparison.Ordinal))
            output.Error.WriteLine(e.ToString());
        output.Error.Flush();
        return code;
    }

    // ArgumentException appends " (Parameter 'name')", which names a C# parameter the user never saw.
    internal static string WithoutParamName(Exception e) => e is ArgumentException { ParamName: not null } ae
        ? ae.Message.Replace($" (Parameter '{ae.ParamName}')", "", StringComparison.Ordinal)
        : e.Message;

    private static string OneLine(string message)
    {
        string[] parts = message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 0 ? "unknown error" : string.Join(' ', parts);
    }
}

/// <summary>Records that binding succeeded and the command is about to run.</summary>
internal sealed class StartedInterceptor : ICommandInterceptor
{
    public bool Started { get; private set; }

    public void Intercept(CommandContext context, CommandSettings settings) => Started = true;
}

/// <summary>A failure to report to the user as one line (exit code <see cref="ExitCodes.Failure"/>).</summary>
public class CliException : Exception
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public CliException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for the user and the underlying cause.</summary>
    public CliException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A wrong command line (an invalid option value), reported with exit code <see cref="ExitCodes.Usage"/>.</summary>
public sealed class CliUsageException : CliException
{
    /// <summary>Creates the exception with a message for the user.</summary>
    public CliUsageException(string message) : base(message) { }
}
