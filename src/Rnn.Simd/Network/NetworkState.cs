using System.Numerics;

namespace Rnn.Simd.Network;

/// <summary>
/// The recurrent state of one or more streams (batch rows) of a network: h (and c for LSTM) of every layer, plus the
/// scratch an inference step needs. Keep one per stream or per thread; a network is shared, a state is not.
/// </summary>
/// <typeparam name="T">float or double.</typeparam>
public sealed class NetworkState<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    internal readonly T[][] H, C, Gates, Aux, Scratch;
    internal readonly T[] Output;

    internal NetworkState(NetworkArchitecture architecture, int batchSize)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Batch size must be at least 1.");
        Architecture = architecture;
        BatchSize = batchSize;
        int layers = architecture.NumLayers, g = architecture.GateCount;
        Cells.RecurrentCell cell = architecture.CellDefinition;
        H = new T[layers][]; C = new T[layers][];
        Gates = new T[layers][]; Aux = new T[layers][]; Scratch = new T[layers][];
        for (int l = 0; l < layers; l++)
        {
            int h = architecture.HiddenSizes[l];
            H[l] = new T[batchSize * h];
            C[l] = cell.HasCellState ? new T[batchSize * h] : [];
            Gates[l] = new T[batchSize * g * h];
            int aux = cell.StepAuxiliaryLength(h);
            Aux[l] = aux > 0 ? new T[batchSize * aux] : [];
            Scratch[l] = new T[batchSize * h];
        }
        Output = new T[batchSize * architecture.OutputSize];
    }

    /// <summary>The architecture this state belongs to.</summary>
    public NetworkArchitecture Architecture { get; }

    /// <summary>Number of independent streams (rows) carried.</summary>
    public int BatchSize { get; }

    /// <summary>Hidden state h of a layer, B x H row-major. Writable, e.g. to set an initial state.</summary>
    public Span<T> Hidden(int layer) => H[layer];

    /// <summary>Cell state c of an LSTM layer, B x H row-major; empty for other cells.</summary>
    public Span<T> Cell(int layer) => C[layer];

    /// <summary>Sets every state to zero (the start of a new sequence).</summary>
    public void Reset()
    {
        for (int l = 0; l < H.Length; l++)
        {
            Array.Clear(H[l]);
            Array.Clear(C[l]);
        }
    }

    /// <summary>Copies the recurrent state (h and c) of another state of the same architecture and batch size. Allocates nothing.</summary>
    /// <exception cref="ArgumentException">The other state has another architecture or batch size.</exception>
    public void CopyFrom(NetworkState<T> other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other.Architecture.Equals(Architecture) || other.BatchSize != BatchSize)
            throw new ArgumentException($"State shape mismatch: {other.Architecture} x {other.BatchSize} into {Architecture} x {BatchSize}.", nameof(other));
        for (int l = 0; l < H.Length; l++)
        {
            other.H[l].AsSpan().CopyTo(H[l]);
            other.C[l].AsSpan().CopyTo(C[l]);
        }
    }

    /// <summary>A new state with the same contents (allocates).</summary>
    public NetworkState<T> Clone()
    {
        var copy = new NetworkState<T>(Architecture, BatchSize);
        copy.CopyFrom(this);
        return copy;
    }
}
