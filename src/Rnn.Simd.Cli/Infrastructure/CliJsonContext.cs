using System.Text.Json;
using System.Text.Json.Serialization;
using Rnn.Simd.Cli.Bench;
using Rnn.Simd.Cli.Commands;
using Rnn.Simd.Cli.Gradcheck;

namespace Rnn.Simd.Cli.Infrastructure;

/// <summary>Source-generated JSON metadata for every document the tool prints (no reflection at run time).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(InfoReport))]
[JsonSerializable(typeof(IReadOnlyList<GradcheckResult>))]
[JsonSerializable(typeof(DiagnoseReport))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context used for output: like <see cref="Default"/>, but with relaxed escaping so that "AVX2 + FMA" is not
    /// written as "AVX2 \u002B FMA" (the output is a document on stdout, never embedded in HTML).
    /// </summary>
    public static CliJsonContext Output { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Writes one JSON document followed by a newline.</summary>
    public static void Write<T>(TextWriter writer, T value, Func<CliJsonContext, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>> info)
    {
        writer.WriteLine(JsonSerializer.Serialize(value, info(Output)));
        writer.Flush();
    }
}
