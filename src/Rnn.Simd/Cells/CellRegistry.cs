namespace Rnn.Simd.Cells;

/// <summary>
/// The one place that maps a <see cref="CellType"/> to its definition. The network, the TBPTT engine and the batch-1
/// path ask the definition (and the layer cells it creates) instead of switching on the enum; adding a cell is a new
/// file with its definition and one entry in <see cref="s_cells"/>.
/// </summary>
internal static class CellRegistry
{
    // Every registered definition; each is placed at the index of its enum value.
    private static readonly RecurrentCell[] s_cells = [new ElmanCell(), new LstmCell(), new GruCell(), new HighwayCell(1)];

    private static readonly RecurrentCell?[] s_byType = Index(s_cells);

    /// <summary>Every registered definition, in registration order.</summary>
    public static IReadOnlyList<RecurrentCell> All => s_cells;

    /// <summary>The definition of <paramref name="cell"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No cell is registered under that value.</exception>
    public static RecurrentCell Get(CellType cell)
    {
        if ((uint)cell >= (uint)s_byType.Length || s_byType[(int)cell] is not { } definition)
            throw new ArgumentOutOfRangeException(nameof(cell), cell, "Unknown cell type.");
        return definition;
    }

    private static RecurrentCell?[] Index(RecurrentCell[] cells)
    {
        int max = -1;
        foreach (RecurrentCell c in cells) max = Math.Max(max, (int)c.Type);
        var byType = new RecurrentCell?[max + 1];
        foreach (RecurrentCell c in cells)
        {
            if (byType[(int)c.Type] is not null) throw new InvalidOperationException($"Two cell definitions are registered for {c.Type}.");
            byType[(int)c.Type] = c;
        }
        return byType;
    }
}
