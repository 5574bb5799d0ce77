using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;

namespace Rnn.Simd.Tests.Cells;

/// <summary>
/// The cell registry resolves every <see cref="CellType"/> to a definition of that type, and each definition agrees
/// with the parameter layout it is laid out over: G·H rows per weight and bias, the packed weights and bias row of
/// its layer cells, the inference state it asks for, and the window tensors it declares. The numerics of each cell
/// are covered by the formulation, reference, gradient and batch-1 tests.
/// </summary>
public class CellRegistryTests
{
    public static TheoryData<CellType> AllCellTypes()
    {
        var data = new TheoryData<CellType>();
        foreach (CellType c in Enum.GetValues<CellType>()) data.Add(c);
        return data;
    }

    [Fact]
    public void Registry_ResolvesEveryCellType_ToItsOwnDefinition_Once()
    {
        CellType[] all = Enum.GetValues<CellType>();
        Assert.Equal(all.Length, CellRegistry.All.Count);
        foreach (CellType c in all)
        {
            RecurrentCell d = CellRegistry.Get(c);
            Assert.Equal(c, d.Type);
            Assert.Same(d, CellRegistry.Get(c));
            Assert.Single(CellRegistry.All, x => x.Type == c);
            Assert.Equal(d.GateCount, c.GateCount());
        }
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => CellRegistry.Get((CellType)99));
        Assert.Equal("cell", unknown.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => CellRegistry.Get((CellType)(-1)));
    }

    [Theory]
    [InlineData(CellType.Elman, 1, true, false, false, -1)]
    [InlineData(CellType.Lstm, 4, true, true, true, 1)]
    [InlineData(CellType.Gru, 3, false, false, true, -1)]
    public void Definition_StatesThePyTorchFormulation(CellType cell, int gates, bool foldsBias, bool cellState, bool batchOne, int forgetGate)
    {
        RecurrentCell d = CellRegistry.Get(cell);
        Assert.Equal(gates, d.GateCount);
        Assert.Equal(foldsBias, d.FoldsRecurrentBias);
        Assert.Equal(cellState, d.HasCellState);
        Assert.Equal(batchOne, d.HasBatchOneStep);
        Assert.Equal(forgetGate, d.ForgetGate);
        Assert.Equal(cell == CellType.Elman, d.UsesActivation);
    }

    [Theory]
    [MemberData(nameof(AllCellTypes))]
    public void LayerCells_MatchTheParameterLayout(CellType cell)
    {
        // Three layers of sizes off the vector widths, so every layer has its own I and H.
        var arch = new NetworkArchitecture(cell, 5, [7, 3, 17], 2);
        var net = new RecurrentNetwork<double>(arch, seed: 3, IsaPath.Scalar);
        RecurrentCell d = arch.CellDefinition;
        Assert.Same(CellRegistry.Get(cell), d);
        net.EnsurePacked();
        const int batch = 2;
        NetworkState<double> state = net.CreateState(batch);
        for (int l = 0; l < arch.NumLayers; l++)
        {
            ParameterSlice wih = net.Layout.Get(l, ParameterKind.InputWeight), whh = net.Layout.Get(l, ParameterKind.RecurrentWeight);
            ParameterSlice bih = net.Layout.Get(l, ParameterKind.InputBias), bhh = net.Layout.Get(l, ParameterKind.RecurrentBias);
            int h = arch.HiddenSizes[l], i = arch.LayerInputSize(l), gh = d.GateCount * h;
            foreach (ParameterSlice s in new[] { wih, whh, bih, bhh }) Assert.Equal(gh, s.Rows);

            RecurrentCell<double> c = net.Packs(l);
            Assert.Same(d, c.Definition);
            Assert.Equal((i, h, gh), (c.InputSize, c.Hidden, c.GateWidth));
            Assert.Equal(new CellLayout(i, h, wih.Offset, whh.Offset, bih.Offset, bhh.Offset), c.Layout);
            Assert.Equal((wih.Columns, wih.Rows), (c.InputWeightT.Rows, c.InputWeightT.Columns));
            Assert.Equal((whh.Columns, whh.Rows), (c.RecurrentWeightT.Rows, c.RecurrentWeightT.Columns));
            Assert.Equal((whh.Rows, whh.Columns), (c.RecurrentWeight.Rows, c.RecurrentWeight.Columns));
            Assert.True(c.InputWeight.SequenceEqual(net.Parameters.Slice(wih.Offset, wih.Length)));

            // The projection's bias row: b_ih + b_hh where the cell folds them, b_ih alone where it keeps b_hh apart.
            double[] expectedBias = net.Parameters.Slice(bih.Offset, gh).ToArray();
            if (d.FoldsRecurrentBias)
                for (int k = 0; k < gh; k++) expectedBias[k] += net.Parameters[bhh.Offset + k];
            Assert.Equal(expectedBias, c.InputBias);

            // The inference state: G·H gates per stream, c only for a cell with state, the cell's auxiliary array.
            Assert.Equal(batch * h, state.Hidden(l).Length);
            Assert.Equal(d.HasCellState ? batch * h : 0, state.Cell(l).Length);
            Assert.Equal(batch * gh, state.Gates[l].Length);
            Assert.Equal(batch * d.StepAuxiliaryLength(h), state.Aux[l].Length);
        }
    }

    [Theory]
    [MemberData(nameof(AllCellTypes))]
    public void WindowBuffers_FollowTheDeclaredTensors(CellType cell)
    {
        RecurrentCell d = CellRegistry.Get(cell);
        const int slots = 5, batch = 3, hidden = 9;
        int gh = new ParameterLayout(new NetworkArchitecture(cell, 4, [hidden], 1)).Get(0, ParameterKind.RecurrentWeight).Rows;
        Assert.Equal(d.GateCount * hidden, gh);
        var names = new HashSet<string>();
        foreach (CellTensor t in d.WindowTensors)
        {
            Assert.True(names.Add(t.Name), $"{cell}: tensor {t.Name} declared twice");
            Assert.True(t.HiddenMultiple >= 1, $"{cell}: tensor {t.Name} has width {t.HiddenMultiple}·H");
        }
        foreach (bool recurrentDropout in new[] { false, true })
        {
            var w = new CellWindowBuffers<double>(d, slots, batch, hidden, recurrentDropout);
            Assert.Equal(gh, w.GateWidth);
            Assert.Equal(slots * batch * gh, w.Gates.Length);
            Assert.Equal(slots * batch * gh, w.GateGradients.Length);
            foreach (PinnedBuffer<double> perSlot in new[] { w.H, w.HPrev, w.DhAbove }) Assert.Equal(slots * batch * hidden, perSlot.Length);
            Assert.Equal(batch * hidden, w.DhRecurrent.Length);
            Assert.Equal(batch * hidden, w.DhTotal.Length);
            Assert.Equal(d.HasCellState ? batch * hidden : 0, w.CellStateGradient.Length);
            for (int k = 0; k < d.WindowTensors.Count; k++)
            {
                CellTensor t = d.WindowTensors[k];
                int rows = t.Scope == CellTensorScope.Stream ? batch : slots * batch;
                int expected = t.RecurrentDropoutOnly && !recurrentDropout ? 0 : rows * t.Width(hidden);
                Assert.Equal(expected, w.Tensor(k).Length);
            }

            // What the W_hh / b_hh gradient GEMMs read is one G·H row per stored step, like weight_hh's rows.
            RecurrentCell<double> c = new RecurrentNetwork<double>(new NetworkArchitecture(cell, 4, [hidden], 1), 0, IsaPath.Scalar).Packs(0);
            Assert.Equal(slots * batch * gh, c.RecurrentGateGradients(w).Length);

            // Clear zeroes every per-slot tensor; ClearGateGradients only the gradients.
            FillAll(w, d);
            w.ClearGateGradients();
            Assert.True(IsZero(w.GateGradients));
            for (int k = 0; k < d.WindowTensors.Count; k++)
                Assert.Equal(d.WindowTensors[k].Scope == CellTensorScope.SlotGradient || w.Tensor(k).Length == 0, IsZero(w.Tensor(k)));
            Assert.False(IsZero(w.Gates));
            w.Clear();
            foreach (PinnedBuffer<double> perSlot in new[] { w.Gates, w.H, w.HPrev, w.GateGradients, w.DhAbove }) Assert.True(IsZero(perSlot));
            for (int k = 0; k < d.WindowTensors.Count; k++)
                Assert.Equal(d.WindowTensors[k].Scope != CellTensorScope.Stream || w.Tensor(k).Length == 0, IsZero(w.Tensor(k)));
        }
    }

    [Fact]
    public void WindowBuffers_RejectEmptyShapes()
    {
        RecurrentCell d = CellRegistry.Get(CellType.Lstm);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CellWindowBuffers<float>(d, 0, 1, 1, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CellWindowBuffers<float>(d, 1, 0, 1, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CellWindowBuffers<float>(d, 1, 1, 0, false));
    }

    private static void FillAll(CellWindowBuffers<double> w, RecurrentCell d)
    {
        foreach (PinnedBuffer<double> b in new[] { w.Gates, w.H, w.HPrev, w.GateGradients, w.DhAbove }) b.Span.Fill(1);
        for (int k = 0; k < d.WindowTensors.Count; k++) w.Tensor(k).Span.Fill(1);
    }

    private static bool IsZero(PinnedBuffer<double> b)
    {
        foreach (double v in b.Span) if (v != 0) return false;
        return true;
    }
}
