using System.Collections.ObjectModel;
using System.Globalization;
using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;

namespace Rnn.Simd.Persistence;

/// <summary>How <see cref="SafeTensorsModel"/> names and stores a network's parameters.</summary>
public sealed class SafeTensorsExportOptions
{
    /// <summary>Element type of every tensor; null: F32 for a float network, F64 for a double one (both bitwise).
    /// F16 and BF16 round to nearest even; a value beyond F16's range is an error, not an infinity.</summary>
    public SafeTensorsDType? DType { get; init; }

    /// <summary>Prefix of the recurrent tensors (<c>{prefix}weight_ih_l{k}</c>, ...); the attribute name of the
    /// <c>nn.RNN</c> / <c>nn.LSTM</c> / <c>nn.GRU</c> in the PyTorch module, plus a dot. Default <c>rnn.</c>; may be empty.</summary>
    public string RecurrentPrefix { get; init; } = SafeTensorsModel.DefaultRecurrentPrefix;

    /// <summary>Prefix of the readout's <c>weight</c> and <c>bias</c> (the <c>nn.Linear</c>'s attribute name plus a dot). Default <c>readout.</c>.</summary>
    public string ReadoutPrefix { get; init; } = SafeTensorsModel.DefaultReadoutPrefix;
}

/// <summary>
/// How <see cref="SafeTensorsModel"/> finds a network in a state dict. Each property left null is taken from the
/// file's description (its <c>__metadata__</c> or a sidecar), else inferred from the tensors' shapes, else defaulted.
/// </summary>
public sealed class SafeTensorsImportOptions
{
    /// <summary>Prefix of the recurrent tensors; null: the description's, else <c>rnn.</c>. Empty for a bare <c>nn.LSTM</c>'s state dict.</summary>
    public string? RecurrentPrefix { get; init; }

    /// <summary>Prefix of the readout's <c>weight</c> and <c>bias</c>; null: the description's, else <c>readout.</c>.</summary>
    public string? ReadoutPrefix { get; init; }

    /// <summary>The cell type; null: the description's, else from the gate multiple (rows of <c>weight_hh_l0</c> over
    /// its columns: 1 Elman, 3 GRU, 4 LSTM). Must agree with the shapes.</summary>
    public CellType? Cell { get; init; }

    /// <summary>An Elman cell's nonlinearity, which no shape tells; null: the description's, else tanh (PyTorch's default).</summary>
    public Activation? Activation { get; init; }

    /// <summary>The whole architecture, explicitly; every tensor's shape is then checked against it. Null: inferred.</summary>
    public NetworkArchitecture? Architecture { get; init; }

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c> for the networks; null: double when every tensor is F64, else float.</summary>
    public Type? ElementType { get; init; }

    /// <summary>Ignore tensors that belong to no part of the network (other submodules of a larger PyTorch model)
    /// instead of refusing the file. Default false.</summary>
    public bool IgnoreExtraTensors { get; init; }

    /// <summary>A description file (JSON, schema in README-format.md) to use instead of the one in the file's metadata;
    /// null: <see cref="SafeTensorsModel.SidecarPath"/> of the file when that exists (loading from a path only).</summary>
    public string? DescriptionPath { get; init; }

    /// <summary>Forecasting information (scaler, options, column names) to use whatever the description says; null: the description's.</summary>
    public ForecastingInfo? Forecasting { get; init; }
}

/// <summary>
/// Networks in safetensors files under the state-dict names of PyTorch's <c>torch.nn.RNN</c>, <c>LSTM</c> and
/// <c>GRU</c> (<c>{prefix}weight_ih_l{k}</c> (G·H x I), <c>weight_hh_l{k}</c> (G·H x H), <c>bias_ih_l{k}</c> and
/// <c>bias_hh_l{k}</c> (G·H), gate order i, f, g, o and r, z, n) and of a <c>torch.nn.Linear</c> readout
/// (<c>{prefix}weight</c> O x H, <c>{prefix}bias</c> O): the layout of <see cref="ParameterLayout"/>, so values map one
/// to one. What a state dict does not hold (an Elman cell's nonlinearity, the forecasting scaler, horizon, features and
/// column names) travels in a JSON description in <c>__metadata__["rnn_simd"]</c>, or in a sidecar file beside a
/// PyTorch-written file. A seed ensemble of M ≥ 2 networks is stored as the state dict of an <c>nn.ModuleList</c>:
/// member k's tensors start with <c>{k}.</c>.
/// </summary>
public static class SafeTensorsModel
{
    /// <summary>Default prefix of the recurrent tensors.</summary>
    public const string DefaultRecurrentPrefix = "rnn.";

    /// <summary>Default prefix of the readout tensors.</summary>
    public const string DefaultReadoutPrefix = "readout.";

    /// <summary>The <c>__metadata__</c> key of the description (JSON text).</summary>
    public const string DescriptionKey = "rnn_simd";

    /// <summary>The <c>__metadata__</c> key Hugging Face tools read as the framework (<c>pt</c>); written unless the caller's metadata sets it.</summary>
    public const string FormatKey = "format";

    /// <summary>The sidecar description of a safetensors file: <c>{path}.json</c>, e.g. <c>model.safetensors.json</c>.</summary>
    public static string SidecarPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return path + ".json";
    }

    // ------------------------------------------------------------------------------------------------ export

    /// <summary>Saves one network atomically (temporary file, flush, rename), with its description in <c>__metadata__</c>.</summary>
    /// <param name="path">Destination; replaced only when the new file is complete.</param>
    /// <param name="network">The network; its current parameters are saved.</param>
    /// <param name="forecasting">Scaler, forecast options and column names (checked against the network), or null.</param>
    /// <param name="metadata">More <c>__metadata__</c> string pairs, or null; the key <see cref="DescriptionKey"/> is reserved.</param>
    /// <param name="options">DType and prefixes; null for F32 / F64 under <c>rnn.</c> and <c>readout.</c>.</param>
    /// <exception cref="ArgumentException">A parameter is NaN or infinite or overflows the dtype, the forecasting information does not fit, a reserved key, or bad prefixes.</exception>
    /// <exception cref="IOException">The file could not be written (a previous file is untouched).</exception>
    public static void Save<T>(string path, RecurrentNetwork<T> network, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null, SafeTensorsExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ToFile<T>([network], forecasting, metadata, options).Save(path);
    }

    /// <summary>Saves a seed ensemble (M ≥ 1 networks of one architecture) atomically; M = 1 writes what the single-network save writes.</summary>
    /// <inheritdoc cref="Save{T}(string, RecurrentNetwork{T}, ForecastingInfo?, IReadOnlyDictionary{string, string}?, SafeTensorsExportOptions?)"/>
    /// <param name="path">Destination; replaced only when the new file is complete.</param>
    /// <param name="members">The networks, member 0 first.</param>
    /// <param name="forecasting">Scaler, forecast options and column names (checked against the network), or null.</param>
    /// <param name="metadata">More <c>__metadata__</c> string pairs, or null; the key <see cref="DescriptionKey"/> is reserved.</param>
    /// <param name="options">DType and prefixes; null for F32 / F64 under <c>rnn.</c> and <c>readout.</c>.</param>
    public static void Save<T>(string path, IReadOnlyList<RecurrentNetwork<T>> members, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null, SafeTensorsExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        ToFile(members, forecasting, metadata, options).Save(path);

    /// <summary>The safetensors file of M ≥ 1 networks (member k under <c>{k}.</c> when M ≥ 2), without writing it.</summary>
    /// <inheritdoc cref="Save{T}(string, IReadOnlyList{RecurrentNetwork{T}}, ForecastingInfo?, IReadOnlyDictionary{string, string}?, SafeTensorsExportOptions?)"/>
    public static SafeTensorsFile ToFile<T>(IReadOnlyList<RecurrentNetwork<T>> members, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null, SafeTensorsExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        options ??= new SafeTensorsExportOptions();
        if (members.Count == 0) throw new ArgumentException("There are no networks to save.", nameof(members));
        RecurrentNetwork<T> first = members[0] ?? throw new ArgumentException("Member 0 is null.", nameof(members));
        NetworkArchitecture a = first.Architecture;
        if (a.Cell == CellType.Highway)
            throw new NotSupportedException("A recurrent highway network (cell Highway) cannot be saved as safetensors: PyTorch has no such module, so there is no state dict to map it to. Save it as an Rnn.Simd model file instead.");
        for (int k = 1; k < members.Count; k++)
        {
            if (members[k] is null) throw new ArgumentException($"Member {k} is null.", nameof(members));
            if (!members[k].Architecture.Equals(a))
                throw new ArgumentException($"Member {k} has architecture {members[k].Architecture}, member 0 has {a}: the members of an ensemble must share one architecture.", nameof(members));
        }
        CheckPrefixes(options.RecurrentPrefix, options.ReadoutPrefix, nameof(options));
        forecasting?.Validate(a);
        SafeTensorsDType dtype = options.DType ?? (typeof(T) == typeof(double) ? SafeTensorsDType.F64 : SafeTensorsDType.F32);
        if (!SafeTensorsDTypes.IsConvertible(dtype))
            throw new ArgumentException($"Parameters are saved as F16, BF16, F32 or F64, not {SafeTensorsDTypes.Name(dtype)}.", nameof(options));

        var tensors = new List<SafeTensor>(members.Count * first.Layout.Slices.Count);
        for (int k = 0; k < members.Count; k++)
        {
            string member = members.Count == 1 ? "" : k.ToString(CultureInfo.InvariantCulture) + ".";
            RecurrentNetwork<T> net = members[k];
            foreach (ParameterSlice s in net.Layout.Slices)
            {
                string name = member + TensorName(s, options.RecurrentPrefix, options.ReadoutPrefix);
                ReadOnlySpan<T> values = net.Parameters.Slice(s.Offset, s.Length);
                long[] shape = s.IsWeight ? [s.Rows, s.Columns] : [s.Rows];
                SafeTensor t = SafeTensor.FromValues(name, shape, values, dtype);
                CheckStored(t, values);
                tensors.Add(t);
            }
        }
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (KeyValuePair<string, string> kv in metadata)
            {
                if (kv.Key == DescriptionKey) throw new ArgumentException($"The metadata key '{DescriptionKey}' is reserved for the network's description.", nameof(metadata));
                meta[kv.Key] = kv.Value ?? throw new ArgumentException($"The metadata value of '{kv.Key}' is null.", nameof(metadata));
            }
        }
        meta.TryAdd(FormatKey, "pt");
        meta[DescriptionKey] = new SafeTensorsDescription
        {
            Cell = (a.Cell, a.Activation),
            RecurrentPrefix = options.RecurrentPrefix,
            ReadoutPrefix = options.ReadoutPrefix,
            Members = members.Count,
            Forecasting = forecasting,
        }.ToJson();
        return new SafeTensorsFile(tensors, meta);
    }

    /// <summary>Refuses a parameter that is not finite, or that the dtype cannot hold (F16 overflow to infinity).</summary>
    private static void CheckStored<T>(SafeTensor t, ReadOnlySpan<T> values) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ReadOnlySpan<byte> data = t.Data.Span;
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) throw new ArgumentException($"Tensor '{t.Name}' cannot be saved: element {i} is {values[i]}.");
            if (!double.IsFinite(SafeTensorsDTypes.Read(t.DType, data, i)))
                throw new ArgumentException($"Tensor '{t.Name}' cannot be saved as {SafeTensorsDTypes.Name(t.DType)}: element {i} ({values[i]}) is beyond its range.");
        }
    }

    private static void CheckPrefixes(string? recurrent, string? readout, string paramName)
    {
        if (recurrent is null || readout is null) throw new ArgumentException("The prefixes cannot be null (use \"\" for none).", paramName);
        if (recurrent == readout)
            throw new ArgumentException($"The recurrent and readout prefixes are both \"{readout}\": the readout's 'weight' and 'bias' need a prefix of their own.", paramName);
        if (readout.Length == 0) throw new ArgumentException("The readout prefix cannot be empty: 'weight' and 'bias' need a module name (e.g. \"readout.\").", paramName);
    }

    /// <summary>The state-dict name of a slice: <c>{recurrent}weight_ih_l0</c>, ..., <c>{readout}weight</c>, <c>{readout}bias</c>.</summary>
    private static string TensorName(ParameterSlice s, string recurrent, string readout) => s.Kind switch
    {
        ParameterKind.ReadoutWeight => readout + "weight",
        ParameterKind.ReadoutBias => readout + "bias",
        ParameterKind.ReadoutInputWeight => readout + "input_weight",
        _ => recurrent + s.Name,
    };

    // ------------------------------------------------------------------------------------------------ import

    /// <summary>
    /// Loads a network (or an ensemble) from a safetensors file, with its forecasting information when the description
    /// has it. The description is <paramref name="options"/>' <see cref="SafeTensorsImportOptions.DescriptionPath"/>,
    /// else the sidecar <see cref="SidecarPath"/> when it exists, else the file's <c>__metadata__["rnn_simd"]</c>.
    /// </summary>
    /// <param name="path">A safetensors file.</param>
    /// <param name="options">Prefixes, cell, architecture, element type; null for what the file says.</param>
    /// <param name="isaPath">ISA path of the networks.</param>
    /// <exception cref="InvalidDataException">The file or the description is not valid, or the tensors do not make a
    /// network: a missing, extra, misshapen, non-float or non-finite tensor (the message names it).</exception>
    /// <exception cref="ArgumentException">The options contradict each other or the file (an explicit architecture is checked tensor by tensor).</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static LoadedModel Load(string path, SafeTensorsImportOptions? options = null, IsaPath isaPath = IsaPath.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeTensorsFile file = SafeTensorsFile.Load(path);
        string? sidecar = options?.DescriptionPath;
        if (sidecar is null && File.Exists(SidecarPath(path))) sidecar = SidecarPath(path);
        return Load(file, sidecar is null ? null : SafeTensorsDescription.Load(sidecar), options, isaPath);
    }

    /// <summary>Builds a network (or an ensemble) from a parsed file; the description is the options' file or the file's metadata (no sidecar lookup).</summary>
    /// <inheritdoc cref="Load(string, SafeTensorsImportOptions?, IsaPath)"/>
    public static LoadedModel Load(SafeTensorsFile file, SafeTensorsImportOptions? options = null, IsaPath isaPath = IsaPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(file);
        return Load(file, options?.DescriptionPath is string p ? SafeTensorsDescription.Load(p) : null, options, isaPath);
    }

    /// <summary>The architecture the tensors describe (see <see cref="SafeTensorsImportOptions"/> for what is inferred and how).</summary>
    /// <exception cref="InvalidDataException">The tensors do not make a network (the message names the tensor).</exception>
    public static NetworkArchitecture InferArchitecture(SafeTensorsFile file, SafeTensorsImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var plan = Plan.Create(file, Description(file, null), options ?? new SafeTensorsImportOptions());
        return plan.Architecture;
    }

    private static SafeTensorsDescription? Description(SafeTensorsFile file, SafeTensorsDescription? sidecar)
    {
        if (sidecar is not null) return sidecar;
        if (file.Metadata is not null && file.Metadata.TryGetValue(DescriptionKey, out string? json))
            return SafeTensorsDescription.Parse(System.Text.Encoding.UTF8.GetBytes(json), $"__metadata__ '{DescriptionKey}'");
        return null;
    }

    private static LoadedModel Load(SafeTensorsFile file, SafeTensorsDescription? sidecar, SafeTensorsImportOptions? options, IsaPath isaPath)
    {
        options ??= new SafeTensorsImportOptions();
        SafeTensorsDescription? description = Description(file, sidecar);
        var plan = Plan.Create(file, description, options);
        NetworkArchitecture a = plan.Architecture;
        ForecastingInfo? forecasting = options.Forecasting ?? description?.Forecasting;
        if (forecasting is not null)
        {
            try
            {
                forecasting.Validate(a);
            }
            catch (ArgumentException e)
            {
                string source = options.Forecasting is not null ? "The given forecasting information" : "The description's forecasting information";
                throw new InvalidDataException($"{source} does not fit the network {a}: {e.Message}", e);
            }
        }
        Type elementType = options.ElementType ?? (plan.AllF64 ? typeof(double) : typeof(float));
        object members = elementType == typeof(double) ? plan.Build<double>(isaPath)
            : elementType == typeof(float) ? plan.Build<float>(isaPath)
            : throw new ArgumentException($"ElementType must be float or double, not {elementType.Name}.", nameof(options));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file.Metadata is not null)
            foreach (KeyValuePair<string, string> kv in file.Metadata)
                if (kv.Key != DescriptionKey) metadata[kv.Key] = kv.Value;
        return new LoadedModel(SafeTensorsDescription.CurrentVersion, members, a, elementType, forecasting,
            new ReadOnlyDictionary<string, string>(metadata), LoadedModel.SafeTensorsFormat);
    }

    /// <summary>Which tensor goes where: the architecture, the member prefixes and, per member, the tensor of each slice.</summary>
    private sealed class Plan
    {
        private Plan(NetworkArchitecture architecture, SafeTensor[][] tensors, bool allF64)
        {
            Architecture = architecture;
            Tensors = tensors;
            AllF64 = allF64;
        }

        public NetworkArchitecture Architecture { get; }

        /// <summary>[member][slice] in <see cref="ParameterLayout"/> order.</summary>
        public SafeTensor[][] Tensors { get; }

        public bool AllF64 { get; }

        public static Plan Create(SafeTensorsFile file, SafeTensorsDescription? d, SafeTensorsImportOptions o)
        {
            string recurrent = o.RecurrentPrefix ?? d?.RecurrentPrefix ?? DefaultRecurrentPrefix;
            string readout = o.ReadoutPrefix ?? d?.ReadoutPrefix ?? DefaultReadoutPrefix;
            CheckPrefixes(recurrent, readout, nameof(o));

            // One network under the prefixes, or an nn.ModuleList of them: member k under "{k}.".
            string[] members;
            if (file.Find(recurrent + "weight_ih_l0") is not null) members = [""];
            else if (file.Find("0." + recurrent + "weight_ih_l0") is not null)
            {
                var list = new List<string>();
                while (file.Find(list.Count.ToString(CultureInfo.InvariantCulture) + "." + recurrent + "weight_ih_l0") is not null)
                    list.Add(list.Count.ToString(CultureInfo.InvariantCulture) + ".");
                members = list.ToArray();
            }
            else throw Missing(file, recurrent + "weight_ih_l0", recurrent);
            if (d?.Members is int m && m != members.Length)
                throw new InvalidDataException($"The description says {m} member(s); the file holds {members.Length} ({(members.Length == 1 ? $"tensors under '{recurrent}'" : $"'0.{recurrent}' .. '{members.Length - 1}.{recurrent}'")}).");

            NetworkArchitecture a = o.Architecture ?? Infer(file, members[0], recurrent, readout, d, o);
            if (o.Architecture is not null)
            {
                (CellType, Activation)? cell = o.Cell is CellType c ? (c, o.Activation ?? a.Activation) : null;
                if (cell is { } x && (x.Item1 != a.Cell || (a.Cell == CellType.Elman && x.Item2 != a.Activation)))
                    throw new ArgumentException($"The options give the architecture {a} and the cell {x.Item1} ({x.Item2}); they disagree.", nameof(o));
            }
            var layout = new ParameterLayout(a);
            var tensors = new SafeTensor[members.Length][];
            var used = new HashSet<string>(StringComparer.Ordinal);
            bool allF64 = true;
            for (int k = 0; k < members.Length; k++)
            {
                tensors[k] = new SafeTensor[layout.Slices.Count];
                for (int s = 0; s < layout.Slices.Count; s++)
                {
                    ParameterSlice slice = layout.Slices[s];
                    string name = members[k] + TensorName(slice, recurrent, readout);
                    SafeTensor t = file.Find(name) ?? throw Missing(file, name, recurrent, a);
                    long[] expected = slice.IsWeight ? [slice.Rows, slice.Columns] : [slice.Rows];
                    if (!SameShape(t.Shape, expected))
                        throw new InvalidDataException($"Tensor '{name}' has shape {t.ShapeText}; the network {a} needs {SafeTensor.FormatShape(expected)} ({Role(slice)}{(members.Length > 1 ? $" of member {k}" : "")}).");
                    if (!SafeTensorsDTypes.IsConvertible(t.DType))
                        throw new InvalidDataException($"Tensor '{name}' has dtype {SafeTensorsDTypes.Name(t.DType)}; network parameters must be F32, F64, F16 or BF16.");
                    allF64 &= t.DType == SafeTensorsDType.F64;
                    tensors[k][s] = t;
                    used.Add(name);
                }
            }
            if (!o.IgnoreExtraTensors)
            {
                var extra = new List<string>();
                foreach (SafeTensor t in file.Tensors)
                    if (!used.Contains(t.Name)) extra.Add(t.Name);
                if (extra.Count > 0) throw Extra(extra, a, recurrent);
            }
            return new Plan(a, tensors, allF64);
        }

        public ReadOnlyCollection<RecurrentNetwork<T>> Build<T>(IsaPath isaPath) where T : unmanaged, IBinaryFloatingPointIeee754<T>
        {
            var nets = new RecurrentNetwork<T>[Tensors.Length];
            for (int k = 0; k < nets.Length; k++)
            {
                var net = new RecurrentNetwork<T>(Architecture, 0, isaPath);
                ParameterLayout layout = net.Layout;
                for (int s = 0; s < layout.Slices.Count; s++)
                {
                    ParameterSlice slice = layout.Slices[s];
                    Span<T> destination = net.Parameters.Slice(slice.Offset, slice.Length);
                    SafeTensor t = Tensors[k][s];
                    t.CopyTo(destination);
                    for (int i = 0; i < destination.Length; i++)
                    {
                        if (T.IsFinite(destination[i])) continue;
                        double v = SafeTensorsDTypes.Read(t.DType, t.Data.Span, i);
                        throw new InvalidDataException($"Tensor '{t.Name}' element {i} is {v.ToString(CultureInfo.InvariantCulture)}{(double.IsFinite(v) ? " (beyond float's range)" : "")}: network parameters must be finite.");
                    }
                }
                net.MarkParametersChanged();
                nets[k] = net;
            }
            return Array.AsReadOnly(nets);
        }

        private static NetworkArchitecture Infer(SafeTensorsFile file, string member, string recurrent, string readout, SafeTensorsDescription? d, SafeTensorsImportOptions o)
        {
            string p = member + recurrent;
            int layers = 0;
            while (file.Find(p + "weight_ih_l" + layers.ToString(CultureInfo.InvariantCulture)) is not null) layers++;
            var hidden = new int[layers];
            int gates = 0, input = 0;
            for (int l = 0; l < layers; l++)
            {
                string lk = l.ToString(CultureInfo.InvariantCulture);
                SafeTensor hh = file.Find(p + "weight_hh_l" + lk) ?? throw Missing(file, p + "weight_hh_l" + lk, recurrent);
                SafeTensor ih = file.Find(p + "weight_ih_l" + lk)!;
                long rows = Matrix(hh, 0), h = Matrix(hh, 1);
                if (h < 1 || h > Sections.MaxDimension) throw new InvalidDataException($"Tensor '{hh.Name}' has shape {hh.ShapeText}: the hidden size (its columns) must be in [1, {Sections.MaxDimension}].");
                if (rows % h != 0 || rows / h is not (1 or 3 or 4))
                    throw new InvalidDataException($"Tensor '{hh.Name}' has shape {hh.ShapeText}: its rows must be 1, 3 or 4 times its columns (the hidden size) for an RNN, GRU or LSTM.");
                int g = (int)(rows / h);
                if (l == 0) gates = g;
                else if (g != gates) throw new InvalidDataException($"Tensor '{hh.Name}' has shape {hh.ShapeText}: {g} gate blocks, but layer 0 has {gates}; every layer must be the same cell.");
                hidden[l] = (int)h;
                long inRows = Matrix(ih, 0), inCols = Matrix(ih, 1);
                if (l == 0)
                {
                    if (inCols < 1 || inCols > Sections.MaxDimension) throw new InvalidDataException($"Tensor '{ih.Name}' has shape {ih.ShapeText}: the input size (its columns) must be in [1, {Sections.MaxDimension}].");
                    input = (int)inCols;
                }
                if (inRows != rows)
                    throw new InvalidDataException($"Tensor '{ih.Name}' has shape {ih.ShapeText}; it needs {rows} rows, as '{hh.Name}' has ({g} gate blocks of {h}).");
            }
            CellType shapeCell = gates switch { 4 => CellType.Lstm, 3 => CellType.Gru, _ => CellType.Elman };
            CellType cell = o.Cell ?? d?.Cell?.Cell ?? shapeCell;
            if (cell.GateCount() != gates)
            {
                string who = o.Cell is not null ? "the options give" : "the description says";
                throw new InvalidDataException($"{char.ToUpperInvariant(who[0])}{who[1..]} {cell} ({cell.GateCount()} gate blocks), but '{p}weight_hh_l0' has {gates} gate block(s) ({shapeCell}).");
            }
            Activation activation = o.Activation ?? d?.Cell?.Activation ?? Activation.Tanh;
            SafeTensor w = file.Find(member + readout + "weight") ?? throw Missing(file, member + readout + "weight", recurrent);
            long outputs = Matrix(w, 0);
            if (outputs < 1 || outputs > Sections.MaxDimension) throw new InvalidDataException($"Tensor '{w.Name}' has shape {w.ShapeText}: the output size (its rows) must be in [1, {Sections.MaxDimension}].");
            // An input-to-output readout (NetworkArchitecture.InputToOutput) is present when its tensor is.
            bool inputToOutput = file.Find(member + readout + "input_weight") is not null;
            return new NetworkArchitecture(cell, input, hidden, (int)outputs, activation, inputToOutput: inputToOutput);
        }

        private static long Matrix(SafeTensor t, int dim) =>
            t.Shape.Count == 2 ? t.Shape[dim] : throw new InvalidDataException($"Tensor '{t.Name}' has shape {t.ShapeText}; it must be a matrix (2 dimensions).");

        private static bool SameShape(IReadOnlyList<long> actual, long[] expected)
        {
            if (actual.Count != expected.Length) return false;
            for (int i = 0; i < expected.Length; i++)
                if (actual[i] != expected[i]) return false;
            return true;
        }

        private static string Role(ParameterSlice s) => s.Kind switch
        {
            ParameterKind.InputWeight => $"W_ih of layer {s.Layer}: gate blocks x layer input",
            ParameterKind.RecurrentWeight => $"W_hh of layer {s.Layer}: gate blocks x hidden",
            ParameterKind.InputBias => $"b_ih of layer {s.Layer}",
            ParameterKind.RecurrentBias => $"b_hh of layer {s.Layer}",
            ParameterKind.ReadoutWeight => "readout weight: outputs x top hidden",
            ParameterKind.ReadoutInputWeight => "input-to-output readout weight: outputs x inputs",
            _ => "readout bias: outputs",
        };

        private static InvalidDataException Missing(SafeTensorsFile file, string name, string recurrent, NetworkArchitecture? a = null)
        {
            string hint = name.Contains("bias_", StringComparison.Ordinal)
                ? " (an RNN built with bias=False has none: Rnn.Simd networks always have both biases; save zeros for them)"
                : name.EndsWith("weight_ih_l0", StringComparison.Ordinal) && !name.StartsWith("0.", StringComparison.Ordinal)
                    ? $" (looked under the recurrent prefix '{recurrent}'; give another prefix if the RNN has another attribute name, \"\" for a bare nn.RNN/LSTM/GRU)"
                    : "";
            return new InvalidDataException($"The tensor '{name}' is missing{(a is null ? "" : $" (the network {a} needs it)")}{hint}. The file holds {List(file)}.");
        }

        private static InvalidDataException Extra(List<string> extra, NetworkArchitecture a, string recurrent)
        {
            string hint = "";
            foreach (string n in extra)
            {
                if (n.EndsWith("_reverse", StringComparison.Ordinal)) { hint = " Bidirectional RNNs are not supported."; break; }
                if (n.Contains("weight_hr_l", StringComparison.Ordinal)) { hint = " LSTMs with projections (proj_size > 0) are not supported."; break; }
                if (n.StartsWith(recurrent + "weight_", StringComparison.Ordinal) || n.StartsWith(recurrent + "bias_", StringComparison.Ordinal))
                { hint = " A layer is incomplete or out of sequence (the layers must be l0, l1, ... with all four tensors each)."; break; }
            }
            return new InvalidDataException($"{extra.Count} tensor(s) belong to no part of the network {a}: '{string.Join("', '", extra.Count > 8 ? extra.GetRange(0, 8) : extra)}'{(extra.Count > 8 ? ", ..." : "")}.{hint} (SafeTensorsImportOptions.IgnoreExtraTensors skips them.)");
        }

        private static string List(SafeTensorsFile file)
        {
            if (file.Tensors.Count == 0) return "no tensors";
            var names = new List<string>();
            foreach (SafeTensor t in file.Tensors)
            {
                if (names.Count == 12) { names.Add("..."); break; }
                names.Add(t.Name);
            }
            return $"{file.Tensors.Count} tensor(s): {string.Join(", ", names)}";
        }
    }
}
