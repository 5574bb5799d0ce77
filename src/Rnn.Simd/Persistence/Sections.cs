using System.Collections.ObjectModel;
using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;

namespace Rnn.Simd.Persistence;

/// <summary>Writers and readers of the sections shared by model files and checkpoints (layouts in README-format.md).</summary>
internal static class Sections
{
    /// <summary>Largest input, hidden or output size a file may declare (far above any CPU-trainable RNN).</summary>
    public const int MaxDimension = 1 << 24;

    /// <summary>Most recurrent layers a file may declare.</summary>
    public const int MaxLayers = 1024;

    /// <summary>Largest recurrence depth (micro-layers per step of a highway cell) a file may declare.</summary>
    public const int MaxRecurrenceDepth = 1024;

    // ------------------------------------------------------------------------------------------------ architecture

    public static PayloadWriter WriteArchitecture(NetworkArchitecture a)
    {
        var w = new PayloadWriter();
        w.U32((uint)a.Cell);
        w.U32((uint)a.Activation);
        w.I32(a.InputSize);
        w.I32(a.OutputSize);
        w.U32((uint)a.NumLayers);
        foreach (int h in a.HiddenSizes) w.I32(h);
        return w;
    }

    /// <summary>
    /// Section 7 'cell_options' (required; i32 recurrence depth L ≥ 2), written only when the architecture's depth is not
    /// 1 (a recurrent highway network), so every other file stays byte-identical and a file without it reads as depth 1;
    /// a reader that does not know the section refuses the file. Null when there is nothing to write.
    /// </summary>
    public static PayloadWriter? WriteCellOptions(NetworkArchitecture a)
    {
        if (a.RecurrenceDepth == 1) return null;
        var w = new PayloadWriter();
        w.I32(a.RecurrenceDepth);
        return w;
    }

    /// <summary>Adds section 7 when <see cref="WriteCellOptions"/> has something to write.</summary>
    public static void AddCellOptions(ContainerWriter file, NetworkArchitecture a)
    {
        if (WriteCellOptions(a) is { } payload) file.Add(SectionId.CellOptions, required: true, payload);
    }

    /// <summary>
    /// Section 8 'readout_options' (required; i32 flags, bit 0 = the readout also reads the input,
    /// <see cref="NetworkArchitecture.InputToOutput"/>, whose O x I weights follow readout.bias in the parameters),
    /// written only when a flag is set, so every other file stays byte-identical; a reader that does not know the
    /// section refuses the file rather than misreading its parameters.
    /// </summary>
    public static void AddReadoutOptions(ContainerWriter file, NetworkArchitecture a)
    {
        if (!a.InputToOutput) return;
        var w = new PayloadWriter();
        w.I32(1);
        file.Add(SectionId.ReadoutOptions, required: true, w);
    }

    /// <summary>Reads and validates the architecture; <paramref name="parameterCount"/> is computed in 64 bits before anything is allocated.</summary>
    public static NetworkArchitecture ReadArchitecture(ContainerReader file, out long parameterCount)
    {
        SectionReader r = file.Open(SectionId.Architecture);
        int cell = r.I32("the cell type", 0, int.MaxValue);
        if (!Enum.IsDefined((CellType)cell)) throw r.Fail($"unknown cell type {cell} (0 Elman, 1 LSTM, 2 GRU, 3 Highway)");
        int activation = r.I32("the activation", 0, int.MaxValue);
        if (!Enum.IsDefined((Activation)activation)) throw r.Fail($"unknown activation {activation} (0 tanh, 1 ReLU, 2 sigmoid)");
        int input = r.I32("the input size", 1, MaxDimension);
        int output = r.I32("the output size", 1, MaxDimension);
        int layers = r.I32("the number of layers", 1, MaxLayers);
        var hidden = new int[layers];
        for (int l = 0; l < layers; l++) hidden[l] = r.I32($"the hidden size of layer {l}", 1, MaxDimension);
        r.End();
        int depth = 1;
        if (file.Has(SectionId.CellOptions))
        {
            SectionReader d = file.Open(SectionId.CellOptions);
            depth = d.I32("the recurrence depth", 2, MaxRecurrenceDepth);
            d.End();
            if ((CellType)cell != CellType.Highway) throw d.Fail($"a recurrence depth of {depth} is declared for {(CellType)cell} cells; only Highway cells have micro-layers");
        }
        bool inputToOutput = false;
        if (file.Has(SectionId.ReadoutOptions))
        {
            SectionReader ro = file.Open(SectionId.ReadoutOptions);
            int flags = ro.I32("the readout flags", 1, 1);
            ro.End();
            inputToOutput = (flags & 1) != 0;
        }
        long g = ((CellType)cell).GateCount(), count = 0;
        for (int l = 0; l < layers; l++)
        {
            long h = hidden[l], i = l == 0 ? input : hidden[l - 1];
            count += g * h * (i + h) + 2 * g * h;
            count += (depth - 1) * (g * h * h + g * h); // a highway layer's micro-layers 2 .. L
        }
        count += (long)output * hidden[^1] + output;
        if (inputToOutput) count += (long)output * input;
        if (count > Array.MaxLength) throw r.Fail($"the architecture needs {count} parameters, more than an array can hold");
        parameterCount = count;
        return new NetworkArchitecture((CellType)cell, input, hidden, output, (Activation)activation, depth, inputToOutput);
    }

    // ------------------------------------------------------------------------------------------------ parameters

    public static PayloadWriter WriteParameters<T>(ReadOnlySpan<T> parameters, ParameterLayout layout, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        CheckFinite(parameters, layout, what);
        var w = new PayloadWriter();
        w.Values(parameters);
        return w;
    }

    private static void CheckFinite<T>(ReadOnlySpan<T> parameters, ParameterLayout layout, string what)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            if (!T.IsFinite(parameters[i]))
                throw new ArgumentException($"The {what} cannot be saved: element {i} ({SliceName(layout, i)}) is {parameters[i]}.");
        }
    }

    /// <summary>
    /// The 'members' section of an ensemble: u32 K = M - 1 ≥ 1, then K × <c>values</c>, the parameters of members
    /// 1 .. M - 1 (member 0 is section 2). The caller has checked that every member has member 0's architecture.
    /// </summary>
    public static PayloadWriter WriteMembers<T>(IReadOnlyList<RecurrentNetwork<T>> members)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var w = new PayloadWriter();
        w.U32((uint)(members.Count - 1));
        for (int k = 1; k < members.Count; k++)
        {
            RecurrentNetwork<T> m = members[k];
            CheckFinite<T>(m.Parameters, m.Layout, $"parameters of member {k}");
            w.Values<T>(m.Parameters);
        }
        return w;
    }

    /// <summary>
    /// The parameter vectors of members 1 .. M - 1 (empty for a single network): each exactly <paramref name="count"/>
    /// finite values of member 0's element type <paramref name="elementCode"/>.
    /// </summary>
    public static Array[] ReadMembers(ContainerReader file, long count, uint elementCode)
    {
        if (!file.Has(SectionId.Members)) return [];
        SectionReader r = file.Open(SectionId.Members);
        // Each member is a 'values' block: element code (4) + count (8) + count values; checked before allocating.
        long memberBytes = 12 + count * (elementCode == 1 ? 4 : 8);
        int n = r.Count("members", memberBytes);
        if (n == 0) throw r.Fail("the member count is 0 (an ensemble section holds at least member 1; a single network has no 'members' section)");
        var result = new Array[n];
        for (int k = 0; k < n; k++)
        {
            uint code = elementCode;
            result[k] = r.Values($"the parameter vector of member {k + 1}", ref code, count);
        }
        r.End();
        return result;
    }

    /// <summary>Reads a parameter vector of exactly <paramref name="count"/> finite values; <paramref name="elementCode"/> in/out (0: any).</summary>
    public static Array ReadParameters(ContainerReader file, SectionId id, long count, ref uint elementCode)
    {
        SectionReader r = file.Open(id);
        Array values = r.Values("the parameter vector", ref elementCode, count);
        r.End();
        return values;
    }

    /// <summary>A network of the file's element type with the given parameters.</summary>
    public static RecurrentNetwork<T> CreateNetwork<T>(NetworkArchitecture architecture, T[] parameters, IsaPath path)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var net = new RecurrentNetwork<T>(architecture, 0, path);
        parameters.CopyTo(net.Parameters);
        net.MarkParametersChanged();
        return net;
    }

    public static Type ElementType(uint code) => code == 1 ? typeof(float) : typeof(double);

    private static string SliceName(ParameterLayout layout, int index)
    {
        foreach (ParameterSlice s in layout.Slices)
            if (index >= s.Offset && index < s.Offset + s.Length) return $"{s.Name}[{index - s.Offset}]";
        return "outside the layout";
    }

    // ------------------------------------------------------------------------------------------------ metadata

    public static PayloadWriter WriteMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        var keys = new List<string>(metadata.Count);
        foreach (var kv in metadata)
        {
            if (string.IsNullOrEmpty(kv.Key)) throw new ArgumentException("A metadata key cannot be empty.", nameof(metadata));
            if (kv.Value is null) throw new ArgumentException($"The metadata value of '{kv.Key}' is null.", nameof(metadata));
            keys.Add(kv.Key);
        }
        // Ordinal key order: the same metadata always gives the same bytes.
        keys.Sort(StringComparer.Ordinal);
        var w = new PayloadWriter();
        w.U32((uint)keys.Count);
        foreach (string k in keys)
        {
            try
            {
                w.Str(k);
                w.Str(metadata[k]);
            }
            catch (System.Text.EncoderFallbackException)
            {
                throw new ArgumentException($"The metadata entry '{k}' is not valid Unicode (a lone surrogate).", nameof(metadata));
            }
        }
        return w;
    }

    public static IReadOnlyDictionary<string, string> ReadMetadata(ContainerReader file)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file.Has(SectionId.Metadata))
        {
            SectionReader r = file.Open(SectionId.Metadata);
            int n = r.Count("entries", 8);
            for (int i = 0; i < n; i++)
            {
                string key = r.Str($"metadata key {i}");
                if (key.Length == 0) throw r.Fail($"metadata key {i} is empty");
                string value = r.Str($"metadata value of '{key}'");
                if (!result.TryAdd(key, value)) throw r.Fail($"metadata key '{key}' appears twice");
            }
            r.End();
        }
        return new ReadOnlyDictionary<string, string>(result);
    }

    // ------------------------------------------------------------------------------------------------ forecasting

    public static PayloadWriter WriteForecasting(ForecastingInfo info, NetworkArchitecture architecture)
    {
        info.Validate(architecture);
        var w = new PayloadWriter();
        int c = info.Scaler.ColumnCount;
        w.U32((uint)c);
        try
        {
            foreach (string name in info.ColumnNames) w.Str(name);
        }
        catch (System.Text.EncoderFallbackException)
        {
            throw new ArgumentException("A column name is not valid Unicode (a lone surrogate).", nameof(info));
        }
        foreach (double m in info.Scaler.Mean) w.F64(m);
        foreach (double s in info.Scaler.Std) w.F64(s);
        w.I32(info.Options.Horizon);
        w.I32((int)info.Options.Mode);
        WriteColumns(w, info.Options.InputColumns);
        WriteColumns(w, info.Options.TargetColumns);
        return w;
    }

    /// <summary>u32 count (0 = null, all columns) + i32 indices.</summary>
    private static void WriteColumns(PayloadWriter w, IReadOnlyList<int>? columns)
    {
        w.U32((uint)(columns?.Count ?? 0));
        if (columns is not null) foreach (int j in columns) w.I32(j);
    }

    /// <summary>u32 count N; N × (i32 kind, i32 parameter): the <see cref="FeatureSpec"/> items in input order.</summary>
    public static PayloadWriter WriteFeatures(FeatureSpec features)
    {
        var w = new PayloadWriter();
        w.U32((uint)features.Items.Count);
        foreach (Feature f in features.Items)
        {
            w.I32((int)f.Kind);
            w.I32(f.Parameter);
        }
        return w;
    }

    private static FeatureSpec? ReadFeatures(ContainerReader file)
    {
        if (!file.Has(SectionId.Features)) return null;
        SectionReader r = file.Open(SectionId.Features);
        int n = r.Count("features", 8);
        if (n == 0) throw r.Fail("the feature list is empty");
        var items = new Feature[n];
        for (int i = 0; i < n; i++)
        {
            int kind = r.I32($"the kind of feature {i}", 0, (int)FeatureKind.Calendar);
            int parameter = r.I32($"the parameter of feature {i}", 0, int.MaxValue);
            items[i] = new Feature((FeatureKind)kind, parameter);
        }
        r.End();
        try
        {
            return new FeatureSpec(items);
        }
        catch (ArgumentException e)
        {
            throw r.Fail(e.Message);
        }
    }

    public static ForecastingInfo? ReadForecasting(ContainerReader file, NetworkArchitecture architecture)
    {
        if (!file.Has(SectionId.Forecasting))
        {
            if (file.Has(SectionId.Features)) throw Container.Invalid("section 'features' is present without section 'forecasting'.");
            return null;
        }
        SectionReader r = file.Open(SectionId.Forecasting);
        int c = r.Count("columns", 4 + 16);
        if (c == 0) throw r.Fail("the series has 0 columns");
        var names = new string[c];
        for (int j = 0; j < c; j++) names[j] = r.Str($"the name of column {j}");
        var mean = new double[c];
        var std = new double[c];
        for (int j = 0; j < c; j++) mean[j] = r.Finite($"the mean of column {j}");
        for (int j = 0; j < c; j++)
        {
            std[j] = r.Finite($"the standard deviation of column {j}");
            if (!(std[j] > 0)) throw r.Fail($"the standard deviation of column {j} is {std[j]}, not positive");
        }
        int horizon = r.I32("the horizon", 1, int.MaxValue);
        int mode = r.I32("the target mode", 0, 1);
        int[]? inputs = ReadColumns(ref r, c, "input");
        int[]? targets = ReadColumns(ref r, c, "target");
        r.End();
        FeatureSpec? features = ReadFeatures(file);
        ForecastingInfo info;
        try
        {
            info = new ForecastingInfo
            {
                Scaler = new StandardScaler(mean, std),
                Options = new ForecastOptions(horizon, (TargetMode)mode, inputs, targets, features),
                ColumnNames = names,
            };
        }
        catch (ArgumentException e)
        {
            throw r.Fail(e.Message);
        }
        try
        {
            info.Validate(architecture);
        }
        catch (ArgumentException e)
        {
            throw r.Fail("it does not fit the network: " + e.Message);
        }
        return info;
    }

    private static int[]? ReadColumns(ref SectionReader r, int columnCount, string what)
    {
        int n = r.Count($"{what} columns", 4);
        if (n == 0) return null;
        var columns = new int[n];
        for (int i = 0; i < n; i++) columns[i] = r.I32($"{what} column {i}", 0, columnCount - 1);
        return columns;
    }
}
