using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using Rnn.Simd.Cli.Infrastructure;
using Rnn.Simd.Cli.Train;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Fuzz;

/// <summary>
/// The fuzzing targets: one reader each, fed arbitrary bytes. A target returns a one-line description of what the
/// reader did ("loaded ..." or "rejected: ..."); it lets through, as a finding, every exception the reader does not
/// document, and throws <see cref="AllocationBoundExceededException"/> when a call allocates more than
/// <see cref="AllocationBound"/> of its input. Compiled into the harness (tests/Rnn.Simd.Fuzz, driven by AFL++ through
/// SharpFuzz) and, as a linked file, into the test suite, which replays the committed corpus through the same code.
/// Nothing here depends on SharpFuzz.
/// </summary>
public static class FuzzTargets
{
    /// <summary>Every target name, as given on the harness's command line.</summary>
    public static IReadOnlyList<string> Names { get; } = ["model", "checkpoint", "safetensors", "csv", "csv-tool"];

    /// <summary>
    /// The most a reader may allocate (managed bytes on the calling thread) for an input of <paramref name="length"/>
    /// bytes: 64 bytes per input byte plus 1 MiB. The 64 covers the file's bytes read into one array, the decoded
    /// values (a 4-byte float stored as a network's parameter, gradient and packed copies), UTF-16 strings of UTF-8
    /// text (2x) and list growth (2x); the 1 MiB covers fixed costs (stream buffers of 64 KiB, a network's per-layer
    /// workspaces of a tiny architecture, first-call type initialisation). For gzip input the length is that of the
    /// decompressed bytes (at most 1032 times the compressed size, DEFLATE's limit) plus the compressed ones.
    /// </summary>
    public static long AllocationBound(long length) => 64 * length + (1L << 20);

    /// <summary>Runs <paramref name="input"/> through the target <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown target.</exception>
    /// <exception cref="AllocationBoundExceededException">A reader allocated more than the bound.</exception>
    public static string Run(string name, byte[] input) => name switch
    {
        "model" => Model(input),
        "checkpoint" => Checkpoint(input),
        "safetensors" => SafeTensors(input),
        "csv" => Csv(input),
        "csv-tool" => CsvTool(input),
        _ => throw new ArgumentException($"Unknown fuzzing target '{name}'; the targets are {string.Join(", ", Names)}.", nameof(name)),
    };

    // ------------------------------------------------------------------------------------------------ model files

    /// <summary>
    /// The model-file reader twice: the bytes as they are, through a non-seekable stream (the chunked path of the
    /// container reader), then resealed (<see cref="Reseal"/>) through a seekable one, so that mutations get past the
    /// checksum into the section readers. Only <see cref="InvalidDataException"/> is documented.
    /// </summary>
    private static string Model(byte[] input)
    {
        string raw = Measured(input.Length, () => LoadModel(new NonSeekableStream(input)));
        byte[] sealedBytes = Reseal(input);
        return Measured(sealedBytes.Length, () => LoadModel(new MemoryStream(sealedBytes, writable: false))) + " | raw: " + raw;
    }

    private static string LoadModel(Stream stream)
    {
        LoadedModel model;
        try
        {
            model = ModelFile.Load(stream);
        }
        catch (InvalidDataException e)
        {
            return "rejected: " + e.Message;
        }
        // A model that loads must be usable: its forecasting part must fit its networks (the Forecaster checks).
        if (model.Forecasting is { } f)
        {
            _ = model.ElementType == typeof(float)
                ? new Forecaster(model.GetMembers<float>(), f.Scaler, f.Options)
                : new Forecaster(model.GetMembers<double>(), f.Scaler, f.Options);
        }
        return $"loaded: {model.Architecture}, {model.MemberCount} member(s), {model.ElementType.Name}, forecasting {(model.Forecasting is null ? "no" : "yes")}, {model.Metadata.Count} metadata";
    }

    // ------------------------------------------------------------------------------------------------ checkpoints

    /// <summary>The checkpoint reader, raw and resealed as <see cref="Model"/>; a loaded checkpoint builds both networks.</summary>
    private static string Checkpoint(byte[] input)
    {
        string raw = Measured(input.Length, () => LoadCheckpoint(new NonSeekableStream(input)));
        byte[] sealedBytes = Reseal(input);
        return Measured(sealedBytes.Length, () => LoadCheckpoint(new MemoryStream(sealedBytes, writable: false))) + " | raw: " + raw;
    }

    private static string LoadCheckpoint(Stream stream)
    {
        TrainingCheckpoint checkpoint;
        try
        {
            checkpoint = TrainingCheckpoint.Load(stream);
        }
        catch (InvalidDataException e)
        {
            return "rejected: " + e.Message;
        }
        if (checkpoint.ElementType == typeof(float))
        {
            _ = checkpoint.CreateNetwork<float>();
            _ = checkpoint.CreateBestNetwork<float>();
        }
        else
        {
            _ = checkpoint.CreateNetwork<double>();
            _ = checkpoint.CreateBestNetwork<double>();
        }
        return $"loaded: {checkpoint.Architecture}, {checkpoint.ElementType.Name}, epoch {checkpoint.CompletedEpochs}, {checkpoint.State.OptimizerName}";
    }

    /// <summary>
    /// The container's integrity fields made to match whatever the bytes are: the total length (header bytes 16..24)
    /// set to the input's length and the SHA-256 trailer (the last 32 bytes) recomputed over everything before it.
    /// Inputs shorter than a header and a trailer are returned as they are.
    /// </summary>
    public static byte[] Reseal(byte[] input)
    {
        const int header = 24, checksum = 32;
        byte[] copy = (byte[])input.Clone();
        if (copy.Length < header + checksum) return copy;
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(16), (ulong)copy.Length);
        SHA256.HashData(copy.AsSpan(0, copy.Length - checksum), copy.AsSpan(copy.Length - checksum));
        return copy;
    }

    // ------------------------------------------------------------------------------------------------ safetensors

    /// <summary>
    /// The safetensors reader (<see cref="SafeTensorsFile.Read"/>, the header JSON, dtypes, offsets) and, on what it
    /// accepts, the state-dict mapping with the description from <c>__metadata__</c> (<see cref="SafeTensorsModel.Load(SafeTensorsFile, SafeTensorsImportOptions?, Kernels.IsaPath)"/>:
    /// inference of cell, sizes and layers, dtype conversion). No options are given, so only
    /// <see cref="InvalidDataException"/> is documented for either. There is no checksum to get past.
    /// </summary>
    private static string SafeTensors(byte[] input) => Measured(input.Length, () =>
    {
        SafeTensorsFile file;
        try
        {
            file = SafeTensorsFile.Read(new MemoryStream(input, writable: false));
        }
        catch (InvalidDataException e)
        {
            return "rejected (file): " + e.Message;
        }
        LoadedModel model;
        try
        {
            model = SafeTensorsModel.Load(file);
        }
        catch (InvalidDataException e)
        {
            return $"file of {file.Tensors.Count} tensor(s); rejected (model): {e.Message}";
        }
        if (model.Forecasting is { } f)
        {
            _ = model.ElementType == typeof(float)
                ? new Forecaster(model.GetMembers<float>(), f.Scaler, f.Options)
                : new Forecaster(model.GetMembers<double>(), f.Scaler, f.Options);
        }
        return $"loaded: {model.Architecture}, {model.MemberCount} member(s), {model.ElementType.Name}, forecasting {(model.Forecasting is null ? "no" : "yes")}";
    });

    // ------------------------------------------------------------------------------------------------ CSV

    /// <summary>
    /// The library's <see cref="CsvSeriesReader"/>: byte 0 selects the options (bit 0 no header, bit 1 interpolate
    /// gaps), the rest is the file. Documented: the <see cref="ForecastDataException"/>s of its summary
    /// (<see cref="SeriesFormatException"/>, <see cref="NonFiniteValueException"/>, <see cref="EmptySeriesException"/>)
    /// and <see cref="InvalidDataException"/> for a corrupt gzip stream.
    /// </summary>
    private static string Csv(byte[] input)
    {
        if (input.Length == 0) return "empty input (no option byte)";
        byte flags = input[0];
        byte[] file = input[1..];
        var options = new CsvSeriesOptions
        {
            HasHeader = (flags & 1) == 0,
            Gaps = (flags & 2) == 0 ? GapHandling.Throw : GapHandling.InterpolateLinear,
        };
        return Measured(EffectiveLength(file), () =>
        {
            try
            {
                TimeSeries s = CsvSeriesReader.Read(new MemoryStream(file, writable: false), options);
                return $"loaded: {s.Length} value(s) of '{s.ColumnNames[0]}'";
            }
            catch (Exception e) when (e is SeriesFormatException or NonFiniteValueException or EmptySeriesException or InvalidDataException)
            {
                return $"rejected ({e.GetType().Name}): {e.Message}";
            }
        });
    }

    /// <summary>
    /// The tool's <see cref="CsvColumnReader"/> (Sep): byte 0 selects the options (bits 0-1 the column: any, "0", "1",
    /// "value"; bits 2-3 the header: detect, yes, no; bits 4-5 the separator: detect, ',', ';', tab; bit 6 fill gaps),
    /// the rest is the file. Documented: <see cref="CliException"/> only (every problem is one line for the user).
    /// </summary>
    private static string CsvTool(byte[] input)
    {
        if (input.Length == 0) return "empty input (no option byte)";
        byte flags = input[0];
        byte[] file = input[1..];
        var options = new CsvColumnOptions(
            Column: (flags & 3) switch { 0 => null, 1 => "0", 2 => "1", _ => "value" },
            HasHeader: ((flags >> 2) & 3) switch { 1 => true, 2 => false, _ => null },
            Separator: ((flags >> 4) & 3) switch { 1 => ',', 2 => ';', 3 => '\t', _ => null },
            FillGaps: (flags & 64) != 0);
        return Measured(EffectiveLength(file), () =>
        {
            try
            {
                CsvColumn c = CsvColumnReader.Read(new MemoryStream(file, writable: false), "fuzz.csv", options);
                return $"loaded: {c.Series.Length} value(s) of column {c.ColumnIndex} '{c.Series.ColumnNames[0]}', {c.FilledGaps} filled";
            }
            catch (CliException e)
            {
                return "rejected: " + e.Message;
            }
        });
    }

    /// <summary>The input's length, plus the length it decompresses to when it starts with the gzip magic (1F 8B).</summary>
    private static long EffectiveLength(byte[] file)
    {
        if (file.Length < 2 || file[0] != 0x1F || file[1] != 0x8B) return file.Length;
        long decompressed = 0;
        var buffer = new byte[1 << 16];
        try
        {
            using var gzip = new GZipStream(new MemoryStream(file, writable: false), CompressionMode.Decompress);
            int n;
            while ((n = gzip.Read(buffer)) > 0) decompressed += n;
        }
        catch (InvalidDataException)
        {
            // Corrupt: what was decoded before the error counts.
        }
        return file.Length + decompressed;
    }

    // ------------------------------------------------------------------------------------------------ allocation bound

    /// <summary>Runs <paramref name="read"/> and checks what it allocated on this thread against <see cref="AllocationBound"/>.</summary>
    private static string Measured(long length, Func<string> read)
    {
        long bound = AllocationBound(length);
        long before = GC.GetAllocatedBytesForCurrentThread();
        string result = read();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > bound)
            throw new AllocationBoundExceededException($"{allocated} bytes allocated for an input of {length} bytes (bound {bound}); the reader said: {result}");
        return result;
    }

    /// <summary>A read-only stream over bytes that cannot seek (as a pipe or a network stream).</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>A reader allocated more than <see cref="FuzzTargets.AllocationBound"/> allows for its input: a finding.</summary>
public sealed class AllocationBoundExceededException(string message) : Exception(message);
