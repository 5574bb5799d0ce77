using System.Text;
using System.Text.Json;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;

namespace Rnn.Simd.Persistence;

/// <summary>
/// What a PyTorch state dict does not hold, as one JSON object (version 1): the cell's mode where shapes cannot tell it
/// (an Elman cell's nonlinearity), the name prefixes, the ensemble size and the forecasting information. Stored by
/// <see cref="SafeTensorsModel"/> in the file's <c>__metadata__</c> under <see cref="SafeTensorsModel.DescriptionKey"/>,
/// or written by hand beside a PyTorch file as a sidecar (<see cref="SafeTensorsModel.SidecarPath"/>). Every field is
/// optional; unknown fields are errors (a hand-written sidecar with a typo must not be half-read). Schema in README-format.md.
/// </summary>
internal sealed class SafeTensorsDescription
{
    public const int CurrentVersion = 1;

    /// <summary>Largest sidecar read (far above any real description; bounds the allocation).</summary>
    public const int MaxSidecarBytes = 16 << 20;

    public (CellType Cell, Activation Activation)? Cell { get; init; }
    public string? RecurrentPrefix { get; init; }
    public string? ReadoutPrefix { get; init; }
    public int? Members { get; init; }
    public ForecastingInfo? Forecasting { get; init; }

    /// <summary>PyTorch's mode names (<c>torch.nn.RNNBase.mode</c>), plus RNN_SIGMOID for the Elman cell PyTorch lacks.</summary>
    public static string ModeName(CellType cell, Activation activation) => cell switch
    {
        CellType.Lstm => "LSTM",
        CellType.Gru => "GRU",
        _ => activation switch { Activation.Relu => "RNN_RELU", Activation.Sigmoid => "RNN_SIGMOID", _ => "RNN_TANH" },
    };

    public static bool TryParseMode(string text, out (CellType, Activation) cell)
    {
        cell = text.ToUpperInvariant() switch
        {
            "LSTM" => (CellType.Lstm, Activation.Tanh),
            "GRU" => (CellType.Gru, Activation.Tanh),
            "RNN_TANH" or "RNN" => (CellType.Elman, Activation.Tanh),
            "RNN_RELU" => (CellType.Elman, Activation.Relu),
            "RNN_SIGMOID" => (CellType.Elman, Activation.Sigmoid),
            _ => ((CellType)(-1), Activation.Tanh),
        };
        return (int)cell.Item1 >= 0;
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("version", CurrentVersion);
            if (Cell is { } c) w.WriteString("cell", ModeName(c.Cell, c.Activation));
            if (RecurrentPrefix is not null) w.WriteString("recurrentPrefix", RecurrentPrefix);
            if (ReadoutPrefix is not null) w.WriteString("readoutPrefix", ReadoutPrefix);
            if (Members is int m) w.WriteNumber("members", m);
            if (Forecasting is { } f)
            {
                w.WriteStartObject("forecasting");
                w.WriteStartArray("columns");
                foreach (string name in f.ColumnNames) w.WriteStringValue(name);
                w.WriteEndArray();
                // Shortest round-trip form: the scaler comes back bit for bit.
                w.WriteStartArray("mean");
                foreach (double v in f.Scaler.Mean) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteStartArray("std");
                foreach (double v in f.Scaler.Std) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteNumber("horizon", f.Options.Horizon);
                w.WriteString("mode", f.Options.Mode == TargetMode.MultiOutput ? "multi" : "single");
                w.WriteString("features", f.Options.Features.ToString());
                WriteColumns(w, "inputColumns", f.Options.InputColumns);
                WriteColumns(w, "targetColumns", f.Options.TargetColumns);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteColumns(Utf8JsonWriter w, string name, IReadOnlyList<int>? columns)
    {
        if (columns is null) return;
        w.WriteStartArray(name);
        foreach (int j in columns) w.WriteNumberValue(j);
        w.WriteEndArray();
    }

    /// <summary>Reads a sidecar file (at most <see cref="MaxSidecarBytes"/>).</summary>
    /// <exception cref="InvalidDataException">Too large, not JSON, or a field is wrong (the message names the file and the field).</exception>
    public static SafeTensorsDescription Load(string path)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            if (stream.Length > MaxSidecarBytes) throw new InvalidDataException($"{path}: the description has {stream.Length} bytes, more than the {MaxSidecarBytes} this reader accepts.");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses a description; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">Not JSON, or a field is wrong.</exception>
    public static SafeTensorsDescription Parse(ReadOnlyMemory<byte> json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw Fail(source, $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Fail(source, $"the description is a JSON {root.ValueKind}, not an object");
            (CellType, Activation)? cell = null;
            string? recurrent = null, readout = null;
            int? members = null;
            ForecastingInfo? forecasting = null;
            foreach (JsonProperty p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "version":
                        int version = Int(p.Value, source, "version", 1, int.MaxValue);
                        if (version > CurrentVersion) throw Fail(source, $"version {version} is newer than this library reads ({CurrentVersion})");
                        break;
                    case "cell":
                        string mode = Str(p.Value, source, "cell");
                        if (!TryParseMode(mode, out var parsed)) throw Fail(source, $"cell \"{mode}\" is not one of LSTM, GRU, RNN_TANH, RNN_RELU, RNN_SIGMOID");
                        cell = parsed;
                        break;
                    case "recurrentPrefix": recurrent = Str(p.Value, source, "recurrentPrefix"); break;
                    case "readoutPrefix": readout = Str(p.Value, source, "readoutPrefix"); break;
                    case "members": members = Int(p.Value, source, "members", 1, 1 << 20); break;
                    case "forecasting": forecasting = ParseForecasting(p.Value, source); break;
                    default: throw Fail(source, $"unknown field '{p.Name}' (known: version, cell, recurrentPrefix, readoutPrefix, members, forecasting)");
                }
            }
            return new SafeTensorsDescription { Cell = cell, RecurrentPrefix = recurrent, ReadoutPrefix = readout, Members = members, Forecasting = forecasting };
        }
    }

    private static ForecastingInfo ParseForecasting(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Fail(source, $"forecasting is a JSON {e.ValueKind}, not an object");
        string[]? columns = null;
        double[]? mean = null, std = null;
        int? horizon = null;
        TargetMode mode = TargetMode.SingleStep;
        FeatureSpec? features = null;
        int[]? inputs = null, targets = null;
        foreach (JsonProperty p in e.EnumerateObject())
        {
            string field = "forecasting." + p.Name;
            switch (p.Name)
            {
                case "columns":
                    JsonElement[] items = Array(p.Value, source, field);
                    columns = new string[items.Length];
                    for (int i = 0; i < items.Length; i++) columns[i] = Str(items[i], source, $"{field}[{i}]");
                    break;
                case "mean": mean = Doubles(p.Value, source, field); break;
                case "std": std = Doubles(p.Value, source, field); break;
                case "horizon": horizon = Int(p.Value, source, field, 1, int.MaxValue); break;
                case "mode":
                    string m = Str(p.Value, source, field);
                    mode = m switch
                    {
                        "single" => TargetMode.SingleStep,
                        "multi" => TargetMode.MultiOutput,
                        _ => throw Fail(source, $"{field} \"{m}\" is not single or multi"),
                    };
                    break;
                case "features":
                    try
                    {
                        features = FeatureSpec.Parse(Str(p.Value, source, field));
                    }
                    catch (Exception x) when (x is FormatException or ArgumentException)
                    {
                        throw Fail(source, $"{field}: {x.Message}");
                    }
                    break;
                case "inputColumns": inputs = Ints(p.Value, source, field); break;
                case "targetColumns": targets = Ints(p.Value, source, field); break;
                default: throw Fail(source, $"unknown field '{field}' (known: columns, mean, std, horizon, mode, features, inputColumns, targetColumns)");
            }
        }
        if (columns is null) throw Fail(source, "forecasting.columns is missing (the name of each column of the series)");
        if (mean is null || std is null) throw Fail(source, "forecasting.mean and forecasting.std are required (the scaler fitted on the training part, one per column)");
        if (horizon is null) throw Fail(source, "forecasting.horizon is missing");
        if (mean.Length != columns.Length || std.Length != columns.Length)
            throw Fail(source, $"forecasting has {columns.Length} columns, {mean.Length} means and {std.Length} standard deviations; give one of each per column");
        try
        {
            return new ForecastingInfo
            {
                Scaler = new StandardScaler(mean, std),
                Options = new ForecastOptions(horizon.Value, mode, inputs, targets, features),
                ColumnNames = columns,
            };
        }
        catch (ArgumentException x)
        {
            throw Fail(source, "forecasting: " + WithoutParamName(x));
        }
    }

    private static string WithoutParamName(ArgumentException e) =>
        e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);

    private static JsonElement[] Array(JsonElement e, string source, string field)
    {
        if (e.ValueKind != JsonValueKind.Array) throw Fail(source, $"{field} is a JSON {e.ValueKind}, not an array");
        var items = new JsonElement[e.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in e.EnumerateArray()) items[i++] = item;
        return items;
    }

    private static double[] Doubles(JsonElement e, string source, string field)
    {
        JsonElement[] items = Array(e, source, field);
        var values = new double[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i].ValueKind != JsonValueKind.Number || !items[i].TryGetDouble(out values[i]) || !double.IsFinite(values[i]))
                throw Fail(source, $"{field}[{i}] is not a finite number");
        }
        return values;
    }

    private static int[] Ints(JsonElement e, string source, string field)
    {
        JsonElement[] items = Array(e, source, field);
        var values = new int[items.Length];
        for (int i = 0; i < items.Length; i++) values[i] = Int(items[i], source, $"{field}[{i}]", 0, int.MaxValue);
        return values;
    }

    private static int Int(JsonElement e, string source, string field, int min, int max)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int v) || v < min || v > max)
            throw Fail(source, $"{field} must be a whole number in [{min}, {max}], got {e.GetRawText()}");
        return v;
    }

    private static string Str(JsonElement e, string source, string field) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Fail(source, $"{field} is a JSON {e.ValueKind}, not a string");

    private static InvalidDataException Fail(string source, string problem) => new($"{source}: {problem}.");
}
