using System.Collections.ObjectModel;
using System.Numerics;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;

namespace Rnn.Simd.Persistence;

/// <summary>
/// What a forecasting model needs besides its weights: the scaling fitted on the training part, how the series
/// becomes inputs and targets, and the series' column names. Stored in the model file's 'forecasting' section.
/// </summary>
/// <remarks>Init-only properties, so that further parts (for example input features) can be added without breaking callers.</remarks>
public sealed class ForecastingInfo
{
    /// <summary>The z-score scaler over every column of the series (C columns), fitted on the training part.</summary>
    public required StandardScaler Scaler { get; init; }

    /// <summary>Horizon, target mode, input and target columns (indices into the C columns).</summary>
    public required ForecastOptions Options { get; init; }

    /// <summary>The name of each of the C columns of the series, in column order.</summary>
    public required IReadOnlyList<string> ColumnNames { get; init; }

    /// <summary>
    /// Checks the parts against each other and against a network: C names, column indices below C, the network's
    /// output size equal to what the options give (target columns · steps per row), and its input size equal to what
    /// the options' features give.
    /// </summary>
    /// <exception cref="ArgumentException">A part is missing or they do not fit together.</exception>
    public void Validate(NetworkArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (Scaler is null || Options is null || ColumnNames is null) throw new ArgumentException("Scaler, Options and ColumnNames are all required.");
        int c = Scaler.ColumnCount;
        if (ColumnNames.Count != c) throw new ArgumentException($"There are {ColumnNames.Count} column names for a scaler of {c} columns.");
        for (int j = 0; j < c; j++)
            if (ColumnNames[j] is null) throw new ArgumentException($"The name of column {j} is null.");
        Options.ResolveInputs(c, nameof(Options));
        Options.ResolveTargets(c, nameof(Options));
        if (Options.OutputSize(c) != architecture.OutputSize)
            throw new ArgumentException($"The forecast options give {Options.OutputSize(c)} outputs per step; the network has {architecture.OutputSize}.");
        if (Options.InputSize(c) != architecture.InputSize)
            throw new ArgumentException($"The forecast options ({Options.Features}) give {Options.InputSize(c)} inputs per step; the network takes {architecture.InputSize}.");
    }
}

/// <summary>
/// A model read by <see cref="ModelFile.Load(string, IsaPath)"/> or <see cref="SafeTensorsModel.Load(string, SafeTensorsImportOptions?, IsaPath)"/>: the network (or the M members of an ensemble) in its
/// saved element type, plus what came with it.
/// </summary>
public sealed class LoadedModel
{
    private readonly object _network;
    private readonly object _members;

    internal LoadedModel(int formatVersion, object members, NetworkArchitecture architecture, Type elementType, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string> metadata,
        string format = RnnSimdFormat)
    {
        FormatVersion = formatVersion;
        Format = format;
        _members = members;
        (_network, MemberCount) = members switch
        {
            IReadOnlyList<RecurrentNetwork<float>> f => ((object)f[0], f.Count),
            IReadOnlyList<RecurrentNetwork<double>> d => (d[0], d.Count),
            _ => throw new ArgumentException("Members must be a list of float or double networks.", nameof(members)),
        };
        Architecture = architecture;
        ElementType = elementType;
        Forecasting = forecasting;
        Metadata = metadata;
    }

    /// <summary>The value of <see cref="Format"/> for an Rnn.Simd model file (<see cref="ModelFile"/>).</summary>
    public const string RnnSimdFormat = "rnn-simd";

    /// <summary>The value of <see cref="Format"/> for a safetensors file (<see cref="SafeTensorsModel"/>).</summary>
    public const string SafeTensorsFormat = "safetensors";

    /// <summary>The file format it was read from: <see cref="RnnSimdFormat"/> or <see cref="SafeTensorsFormat"/>.</summary>
    public string Format { get; }

    /// <summary>The format version the file was written with (for safetensors, the version of its Rnn.Simd description, 1).</summary>
    public int FormatVersion { get; }

    /// <summary>The network's shapes (shared by every member of an ensemble).</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the element type the parameters were saved in.</summary>
    public Type ElementType { get; }

    /// <summary>M ≥ 1: the networks whose outputs the model averages (1 for a single network, M for a seed ensemble).</summary>
    public int MemberCount { get; }

    /// <summary>The network (member 0 of an ensemble) when it was saved as float, else null.</summary>
    public RecurrentNetwork<float>? FloatNetwork => _network as RecurrentNetwork<float>;

    /// <summary>The network (member 0 of an ensemble) when it was saved as double, else null.</summary>
    public RecurrentNetwork<double>? DoubleNetwork => _network as RecurrentNetwork<double>;

    /// <summary>The forecasting section (scaler, options, column names), or null when the file has none.</summary>
    public ForecastingInfo? Forecasting { get; }

    /// <summary>Free-form key/value metadata, in ordinal key order (empty when none was saved).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// The network as <see cref="RecurrentNetwork{T}"/>; T must be the saved element type. For an ensemble this is
    /// member 0 alone: predict with <see cref="GetMembers{T}"/> (and average), or the model is not the one saved.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file holds the other element type (see <see cref="ElementType"/>).</exception>
    public RecurrentNetwork<T> GetNetwork<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        _network as RecurrentNetwork<T>
        ?? throw new InvalidOperationException($"The model was saved with {ElementType.Name} parameters, not {typeof(T).Name}.");

    /// <summary>
    /// The <see cref="MemberCount"/> networks of the model, member 0 first (a list of one for a single network); T must
    /// be the saved element type. The model's prediction is the element-wise mean of their outputs in scaled units
    /// (see <see cref="Rnn.Simd.Forecasting.EnsembleAverage"/> and <see cref="Rnn.Simd.Forecasting.Forecaster"/>, which
    /// accepts the list as it is).
    /// </summary>
    /// <exception cref="InvalidOperationException">The file holds the other element type (see <see cref="ElementType"/>).</exception>
    public IReadOnlyList<RecurrentNetwork<T>> GetMembers<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        _members as IReadOnlyList<RecurrentNetwork<T>>
        ?? throw new InvalidOperationException($"The model was saved with {ElementType.Name} parameters, not {typeof(T).Name}.");
}

/// <summary>
/// Saves and loads trained networks in the Rnn.Simd model format (versioned, sectioned, SHA-256 checked; layout in
/// src/Rnn.Simd/Persistence/README-format.md).
/// </summary>
/// <remarks>
/// Saving to a path writes a temporary file in the same directory, flushes it to disk and renames it over the
/// destination, so an interrupted save leaves the previous file intact. Loading checks the magic, the version, the
/// declared length, the checksum and every field before it builds the network; any problem is an
/// <see cref="InvalidDataException"/> that says what is wrong and where.
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this library writes; it reads this version and older ones.</summary>
    public const int FormatVersion = Container.FormatVersion;

    /// <summary>Saves a network, optionally with its forecasting information and metadata, to <paramref name="path"/> atomically.</summary>
    /// <param name="path">Destination file; replaced only when the new file is complete and flushed.</param>
    /// <param name="network">The network (float or double); its current parameters are saved.</param>
    /// <param name="forecasting">Scaler, forecast options and column names, or null.</param>
    /// <param name="metadata">Free-form string pairs (tool version, data name, figures), or null. Keys non-empty.</param>
    /// <exception cref="ArgumentException">A parameter is NaN or infinite, the forecasting information does not fit the network, or a metadata key is empty.</exception>
    /// <exception cref="IOException">The file could not be written (the previous file is untouched).</exception>
    public static void Save<T>(string path, RecurrentNetwork<T> network, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        AtomicFile.Write(path, ToBytes(network, forecasting, metadata));

    /// <summary>Writes a network to a stream (from its current position; the stream is not closed).</summary>
    /// <inheritdoc cref="Save{T}(string, RecurrentNetwork{T}, ForecastingInfo?, IReadOnlyDictionary{string, string}?)"/>
    public static void Save<T>(Stream stream, RecurrentNetwork<T> network, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(network, forecasting, metadata));
    }

    /// <summary>
    /// Saves a seed ensemble: M ≥ 1 networks of one architecture and element type whose outputs the model averages
    /// (element-wise mean in scaled units, before inverse scaling). Member 0 goes where a single network goes, so a
    /// list of one writes exactly the bytes of <see cref="Save{T}(string, RecurrentNetwork{T}, ForecastingInfo?, IReadOnlyDictionary{string, string}?)"/>;
    /// members 1 .. M - 1 go to the required 'members' section. Atomic, as the single-network save.
    /// </summary>
    /// <param name="path">Destination file; replaced only when the new file is complete and flushed.</param>
    /// <param name="members">The networks, member 0 first; their current parameters are saved.</param>
    /// <param name="forecasting">Scaler, forecast options and column names (checked against the shared architecture), or null.</param>
    /// <param name="metadata">Free-form string pairs, or null. Keys non-empty.</param>
    /// <exception cref="ArgumentException">The list is empty, a member is null or has another architecture than member 0
    /// (the message names member k), a parameter is NaN or infinite, the forecasting information does not fit, or a
    /// metadata key is empty.</exception>
    /// <exception cref="IOException">The file could not be written (the previous file is untouched).</exception>
    public static void Save<T>(string path, IReadOnlyList<RecurrentNetwork<T>> members, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        AtomicFile.Write(path, ToBytes(members, forecasting, metadata));

    /// <summary>Writes a seed ensemble to a stream (from its current position; the stream is not closed).</summary>
    /// <inheritdoc cref="Save{T}(string, IReadOnlyList{RecurrentNetwork{T}}, ForecastingInfo?, IReadOnlyDictionary{string, string}?)"/>
    public static void Save<T>(Stream stream, IReadOnlyList<RecurrentNetwork<T>> members, ForecastingInfo? forecasting = null, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(members, forecasting, metadata));
    }

    /// <summary>Test hook: the path save with a wrapper around the temporary file's stream.</summary>
    internal static void Save<T>(string path, RecurrentNetwork<T> network, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string>? metadata, Func<Stream, Stream> wrap)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        AtomicFile.Write(path, ToBytes(network, forecasting, metadata), wrap);

    /// <summary>The bytes of a single-network model file.</summary>
    internal static byte[] ToBytes<T>(RecurrentNetwork<T> network, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string>? metadata)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return ToBytes<T>([network], forecasting, metadata);
    }

    /// <summary>The bytes of a model file of M ≥ 1 members ('members' section only when M ≥ 2).</summary>
    internal static byte[] ToBytes<T>(IReadOnlyList<RecurrentNetwork<T>> members, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string>? metadata)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("The ensemble has no members: a model needs at least one network.", nameof(members));
        RecurrentNetwork<T> network = members[0] ?? throw new ArgumentException("Member 0 of the ensemble is null.", nameof(members));
        for (int k = 1; k < members.Count; k++)
        {
            RecurrentNetwork<T>? m = members[k];
            if (m is null) throw new ArgumentException($"Member {k} of the ensemble is null.", nameof(members));
            if (!m.Architecture.Equals(network.Architecture))
                throw new ArgumentException($"Member {k} has architecture {m.Architecture}, member 0 has {network.Architecture}: the members of an ensemble must share one architecture.", nameof(members));
        }
        var file = new ContainerWriter(FileKind.Model);
        file.Add(SectionId.Architecture, required: true, Sections.WriteArchitecture(network.Architecture));
        file.Add(SectionId.Parameters, required: true, Sections.WriteParameters<T>(network.Parameters, network.Layout, members.Count == 1 ? "network parameters" : "parameters of member 0"));
        if (forecasting is not null)
        {
            file.Add(SectionId.Forecasting, required: false, Sections.WriteForecasting(forecasting, network.Architecture));
            // Required: a reader that ignored the features would build the wrong inputs. Omitted for value-only
            // inputs, so such files stay readable by the first version of the format.
            if (!forecasting.Options.Features.Equals(FeatureSpec.ValueOnly))
                file.Add(SectionId.Features, required: true, Sections.WriteFeatures(forecasting.Options.Features));
        }
        if (metadata is not null && metadata.Count > 0) file.Add(SectionId.Metadata, required: false, Sections.WriteMetadata(metadata));
        // Required: a reader that skipped it would predict with member 0 alone, a different model than the one saved.
        // Omitted for a single network, whose file stays byte-identical to the first version of the format.
        if (members.Count > 1) file.Add(SectionId.Members, required: true, Sections.WriteMembers(members));
        Sections.AddCellOptions(file, network.Architecture);
        Sections.AddReadoutOptions(file, network.Architecture);
        return file.ToArray();
    }

    /// <summary>Loads a model file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="isaPath">ISA path of the loaded network's kernels (default: the widest available).</param>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is empty, foreign, truncated, corrupted (checksum), of a newer
    /// format version, a checkpoint rather than a model, or inconsistent (sizes, counts, NaN weights).</exception>
    public static LoadedModel Load(string path, IsaPath isaPath = IsaPath.Auto)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Load(Container.ReadAll(stream, requireEnd: true), isaPath);
    }

    /// <summary>Loads a model from a stream: reads exactly the length the header declares, from the current position.</summary>
    /// <inheritdoc cref="Load(string, IsaPath)"/>
    public static LoadedModel Load(Stream stream, IsaPath isaPath = IsaPath.Auto)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Load(Container.ReadAll(stream, requireEnd: false), isaPath);
    }

    private static LoadedModel Load(byte[] data, IsaPath isaPath)
    {
        ContainerReader file = ContainerReader.Parse(data, FileKind.Model);
        NetworkArchitecture architecture = Sections.ReadArchitecture(file, out long count);
        uint code = 0;
        Array parameters = Sections.ReadParameters(file, SectionId.Parameters, count, ref code);
        Array[] others = Sections.ReadMembers(file, count, code);
        ForecastingInfo? forecasting = Sections.ReadForecasting(file, architecture);
        IReadOnlyDictionary<string, string> metadata = Sections.ReadMetadata(file);
        object members = parameters is float[]
            ? CreateMembers<float>(architecture, parameters, others, isaPath)
            : CreateMembers<double>(architecture, parameters, others, isaPath);
        return new LoadedModel(file.Version, members, architecture, Sections.ElementType(code), forecasting, metadata);
    }

    private static ReadOnlyCollection<RecurrentNetwork<T>> CreateMembers<T>(NetworkArchitecture architecture, Array first, Array[] others, IsaPath isaPath)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var members = new RecurrentNetwork<T>[1 + others.Length];
        members[0] = Sections.CreateNetwork(architecture, (T[])first, isaPath);
        for (int k = 0; k < others.Length; k++) members[k + 1] = Sections.CreateNetwork(architecture, (T[])others[k], isaPath);
        return Array.AsReadOnly(members);
    }
}
