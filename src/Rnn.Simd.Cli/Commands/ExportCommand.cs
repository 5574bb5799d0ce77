using System.ComponentModel;
using Rnn.Simd.Cli.Export;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Persistence;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>Options of <c>rnn-simd export</c>.</summary>
public sealed class ExportSettings : CommandSettings
{
    /// <summary>Model to export.</summary>
    [CommandOption("--model <FILE>")]
    [Description("Model to export: a model file written by train --out (required).")]
    public string? Model { get; init; }

    /// <summary>Output format.</summary>
    [CommandOption("--format <FORMAT>")]
    [Description("Output format: onnx (standard LSTM / GRU / RNN operators, opset 17). Default: from the extension of --output.")]
    public string? Format { get; init; }

    /// <summary>Output file.</summary>
    [CommandOption("-o|--output <FILE>")]
    [Description("File to write (required); written to a temporary file and renamed.")]
    public string? Output { get; init; }

    /// <summary>No progress output.</summary>
    [CommandOption("-q|--quiet")]
    [Description("No progress output on stderr (errors are still reported).")]
    public bool Quiet { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate()
    {
        if (Model is null || OptionValues.IsMissing(Model)) return ValidationResult.Error("--model FILE is required: the model to export.");
        if (Output is null || OptionValues.IsMissing(Output)) return ValidationResult.Error("-o|--output FILE is required: the file to write.");
        if (Format is not null && OptionValues.IsMissing(Format)) return ValidationResult.Error($"--format needs a value: {OnnxExport.Name}.");
        if (Format is not null && !string.Equals(Format.Trim(), OnnxExport.Name, StringComparison.OrdinalIgnoreCase))
            return ValidationResult.Error($"--format must be {OnnxExport.Name}, got '{Format}'.");
        if (Format is null && !Output.EndsWith(OnnxExport.Extension, StringComparison.OrdinalIgnoreCase))
            return ValidationResult.Error($"--format is required: the extension of '{Output}' names no format ({OnnxExport.Name}).");
        return ValidationResult.Success();
    }
}

/// <summary>
/// <c>rnn-simd export</c>: reads a model file and writes it as ONNX (<see cref="OnnxExport"/>). Nothing on stdout; one
/// progress line on stderr.
/// </summary>
public sealed class ExportCommand(CliOutput output) : Command<ExportSettings>
{
    /// <inheritdoc/>
    public override int Execute(CommandContext context, ExportSettings settings, CancellationToken cancellationToken)
    {
        string modelPath = settings.Model!, outputPath = settings.Output!;
        if (Directory.Exists(modelPath)) throw new CliException($"--model {modelPath} is a directory, not a model file.");
        if (!File.Exists(modelPath)) throw new CliException($"--model {modelPath}: the file does not exist.");
        LoadedModel model;
        try
        {
            model = ModelFile.Load(modelPath);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"--model {modelPath}: {e.Message}", e);
        }
        if (Directory.Exists(outputPath)) throw new CliException($"--output {outputPath} is a directory; give a file name.");
        string? directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (directory is not null && !Directory.Exists(directory)) throw new CliException($"--output {outputPath}: the directory {directory} does not exist.");
        string summary;
        try
        {
            summary = OnnxExport.Export(model, outputPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--output {outputPath}: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new CliException($"--model {modelPath} cannot be exported as {OnnxExport.Name}: {CliApp.WithoutParamName(e)}", e);
        }
        if (!settings.Quiet) output.Progress(summary);
        return ExitCodes.Success;
    }
}
