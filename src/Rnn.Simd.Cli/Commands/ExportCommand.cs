using System.ComponentModel;
using Rnn.Simd.Cli.Export;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Models;
using Rnn.Simd.Persistence;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd export</c>.</summary>
public sealed class ExportSettings : CommandSettings
{
    /// <summary>Model to export.</summary>
    [CommandOption("--model <FILE>")]
    [Description("Model to export: a model file written by train --out (.rnn or .safetensors) (required).")]
    public string? Model { get; init; }

    /// <summary>Output format.</summary>
    [CommandOption("--format <FORMAT>")]
    [Description("Output format: safetensors (PyTorch state-dict names) or onnx (standard LSTM / GRU / RNN operators, opset 17). Default: from the extension of --output.")]
    public string? Format { get; init; }

    /// <summary>Output file.</summary>
    [CommandOption("-o|--output <FILE>")]
    [Description("File to write (required); written to a temporary file and renamed.")]
    public string? Output { get; init; }

    /// <summary>Tensor dtype.</summary>
    [CommandOption("--dtype <TYPE>")]
    [Description("safetensors: f32, f64, f16 or bf16 (default: the network's own type, f32 or f64, bitwise). f16 and bf16 round to nearest even.")]
    public string? DType { get; init; }

    /// <summary>Prefix of the recurrent tensors.</summary>
    [CommandOption("--prefix <PREFIX>")]
    [Description("safetensors: prefix of the recurrent tensors, the nn.RNN/LSTM/GRU attribute of the PyTorch module plus a dot (default rnn.; \"\" for a bare module).")]
    public string? Prefix { get; init; }

    /// <summary>Prefix of the readout tensors.</summary>
    [CommandOption("--readout-prefix <PREFIX>")]
    [Description("safetensors: prefix of the readout's weight and bias, the nn.Linear attribute plus a dot (default readout.).")]
    public string? ReadoutPrefix { get; init; }

    /// <summary>No progress output.</summary>
    [CommandOption("-q|--quiet")]
    [Description("No progress output on stderr (errors are still reported).")]
    public bool Quiet { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate() => TryParse(out _);

    /// <summary>The parsed options.</summary>
    public ExportRequest Options => TryParse(out ExportRequest? o).Successful ? o! : throw new CliUsageException("invalid options");

    private ValidationResult TryParse(out ExportRequest? options)
    {
        options = null;
        if (Model is null || OptionValues.IsMissing(Model)) return ValidationResult.Error("--model FILE is required: the model to export.");
        if (Output is null || OptionValues.IsMissing(Output)) return ValidationResult.Error("-o|--output FILE is required: the file to write.");
        if (Format is not null && OptionValues.IsMissing(Format)) return ValidationResult.Error($"--format needs a value: {ExportFormats.Names}.");
        IModelExporter? format = Format is not null ? ExportFormats.Find(Format) : ExportFormats.FromExtension(Output);
        if (format is null)
            return ValidationResult.Error(Format is not null
                ? $"--format must be one of {ExportFormats.Names}, got '{Format}'."
                : $"--format is required: the extension of '{Output}' names no format ({ExportFormats.Names}).");
        var request = new ExportRequest(Model, format, Output, DType, Prefix, ReadoutPrefix, Quiet);
        if (format.Validate(request) is string problem) return ValidationResult.Error(problem);
        options = request;
        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>rnn-simd export</c>: reads a model file (either format) and writes it in another format through the format's
/// <see cref="IModelExporter"/> (<see cref="ExportFormats"/>). Nothing on stdout; one progress line on stderr.
/// </summary>
public sealed class ExportCommand(CliOutput output) : Command<ExportSettings>
{
    /// <inheritdoc/>
    public override int Execute(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        ExportRequest o = settings.Options;
        LoadedModel model = ModelFiles.Open("--model", o.ModelPath, out _);
        if (Directory.Exists(o.OutputPath)) throw new CliException($"--output {o.OutputPath} is a directory; give a file name.");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(o.OutputPath));
        if (directory is not null && !Directory.Exists(directory)) throw new CliException($"--output {o.OutputPath}: the directory {directory} does not exist.");
        string summary;
        try
        {
            summary = o.Format.Export(model, o);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--output {o.OutputPath}: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new CliException($"--model {o.ModelPath} cannot be exported as {o.Format.Name}: {CliApp.WithoutParamName(e)}", e);
        }
        if (!o.Quiet) output.Progress(summary);
        return ExitCodes.Success;
    }
}
