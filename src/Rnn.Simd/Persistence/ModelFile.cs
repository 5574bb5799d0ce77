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

/// <summary>A model read by <see cref="ModelFile.Load(string, IsaPath)"/>: the network in its saved element type, plus what came with it.</summary>
public sealed class LoadedModel
{
    private readonly object _network;

    internal LoadedModel(int formatVersion, object network, NetworkArchitecture architecture, Type elementType, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string> metadata)
    {
        FormatVersion = formatVersion;
        _network = network;
        Architecture = architecture;
        ElementType = elementType;
        Forecasting = forecasting;
        Metadata = metadata;
    }

    /// <summary>The format version the file was written with.</summary>
    public int FormatVersion { get; }

    /// <summary>The network's shapes.</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary><c>typeof(float)</c> or <c>typeof(double)</c>: the element type the parameters were saved in.</summary>
    public Type ElementType { get; }

    /// <summary>The network when it was saved as float, else null.</summary>
    public RecurrentNetwork<float>? FloatNetwork => _network as RecurrentNetwork<float>;

    /// <summary>The network when it was saved as double, else null.</summary>
    public RecurrentNetwork<double>? DoubleNetwork => _network as RecurrentNetwork<double>;

    /// <summary>The forecasting section (scaler, options, column names), or null when the file has none.</summary>
    public ForecastingInfo? Forecasting { get; }

    /// <summary>Free-form key/value metadata, in ordinal key order (empty when none was saved).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The network as <see cref="RecurrentNetwork{T}"/>; T must be the saved element type.</summary>
    /// <exception cref="InvalidOperationException">The file holds the other element type (see <see cref="ElementType"/>).</exception>
    public RecurrentNetwork<T> GetNetwork<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        _network as RecurrentNetwork<T>
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

    /// <summary>Test hook: the path save with a wrapper around the temporary file's stream.</summary>
    internal static void Save<T>(string path, RecurrentNetwork<T> network, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string>? metadata, Func<Stream, Stream> wrap)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        AtomicFile.Write(path, ToBytes(network, forecasting, metadata), wrap);

    /// <summary>The bytes of a model file.</summary>
    internal static byte[] ToBytes<T>(RecurrentNetwork<T> network, ForecastingInfo? forecasting, IReadOnlyDictionary<string, string>? metadata)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        var file = new ContainerWriter(FileKind.Model);
        file.Add(SectionId.Architecture, required: true, Sections.WriteArchitecture(network.Architecture));
        file.Add(SectionId.Parameters, required: true, Sections.WriteParameters<T>(network.Parameters, network.Layout, "network parameters"));
        if (forecasting is not null)
        {
            file.Add(SectionId.Forecasting, required: false, Sections.WriteForecasting(forecasting, network.Architecture));
            // Required: a reader that ignored the features would build the wrong inputs. Omitted for value-only
            // inputs, so such files stay readable by the first version of the format.
            if (!forecasting.Options.Features.Equals(FeatureSpec.ValueOnly))
                file.Add(SectionId.Features, required: true, Sections.WriteFeatures(forecasting.Options.Features));
        }
        if (metadata is not null && metadata.Count > 0) file.Add(SectionId.Metadata, required: false, Sections.WriteMetadata(metadata));
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
        ForecastingInfo? forecasting = Sections.ReadForecasting(file, architecture);
        IReadOnlyDictionary<string, string> metadata = Sections.ReadMetadata(file);
        object network = parameters is float[] f
            ? Sections.CreateNetwork(architecture, f, isaPath)
            : Sections.CreateNetwork(architecture, (double[])parameters, isaPath);
        return new LoadedModel(file.Version, network, architecture, Sections.ElementType(code), forecasting, metadata);
    }
}
