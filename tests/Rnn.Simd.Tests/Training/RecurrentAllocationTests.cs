using Rnn.Simd.Cells;
using Rnn.Simd.Kernels;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Training;

/// <summary>
/// The steady state allocates nothing (DESIGN §2): after a warm-up, <see cref="GC.GetAllocatedBytesForCurrentThread"/>
/// does not move across 100 training iterations (ZeroGradients, one TBPTT window, a plain SGD update through
/// <see cref="VectorMath.Axpy{T}"/> and <see cref="RecurrentNetwork{T}.MarkParametersChanged"/>, so the weights are
/// repacked every window) or across 1000 inference steps, for every cell, in float with maxThreads = 1. The measured
/// loops avoid everything that allocates on the test side (no lambdas, no LINQ, no formatting before the assert).
/// </summary>
// In the non-parallel allocation collection: a GC triggered by a concurrently running test moves this thread's
// allocation counter by a quantum although nothing was allocated here.
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class RecurrentAllocationTests
{
    private const int WarmUp = 3;

    private static NetworkArchitecture Arch2(CellType cell) => new(cell, 5, [16, 11], 3);

    [Theory]
    [InlineData(CellType.Elman)]
    [InlineData(CellType.Lstm)]
    [InlineData(CellType.Gru)]
    public void TrainingWindowWithSgdUpdate_AllocatesNothingAfterWarmUp(CellType cell)
    {
        const int batch = 4, tf = 5, windows = 100;
        var net = new RecurrentNetwork<float>(Arch2(cell), 401);
        var engine = new TruncatedBptt<float>(net, batch, BpttSchedule.Default(tf), maxThreads: 1);
        float[] x = Convert<float>(Uniform(402, tf * batch * 5)), t = Convert<float>(Uniform(403, tf * batch * 3));
        var y = new float[t.Length];

        for (int i = 0; i < WarmUp; i++) TrainStep(net, engine, x, t, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < windows; i++) TrainStep(net, engine, x, t, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated == 0, $"{cell}: {allocated} bytes allocated over {windows} windows after warm-up");
        Assert.Equal(WarmUp * tf + windows * tf, engine.StepsSinceReset); // the ring wrapped many times
    }

    private static void TrainStep(RecurrentNetwork<float> net, TruncatedBptt<float> engine, float[] x, float[] t, float[] y)
    {
        net.ZeroGradients();
        engine.Window(x, t, y);
        VectorMath.Axpy(-1e-3f, net.Gradients, net.Parameters);
        net.MarkParametersChanged();
    }

    [Theory]
    [InlineData(CellType.Elman, 1)]
    [InlineData(CellType.Lstm, 1)]
    [InlineData(CellType.Gru, 1)]
    [InlineData(CellType.Elman, 3)]
    [InlineData(CellType.Lstm, 3)]
    [InlineData(CellType.Gru, 3)]
    public void InferenceStep_AllocatesNothingAfterWarmUp(CellType cell, int batch)
    {
        const int steps = 1000;
        var net = new RecurrentNetwork<float>(Arch2(cell), 411);
        NetworkState<float> s = net.CreateState(batch);
        float[] x = Convert<float>(Uniform(412, batch * 5));
        var y = new float[batch * 3];

        for (int i = 0; i < WarmUp; i++) net.Step(x, y, s);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++) net.Step(x, y, s);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{cell} B={batch}: {allocated} bytes allocated over {steps} steps after warm-up");

        // Forward over a sequence, and a state copy, allocate nothing either.
        float[] seq = Convert<float>(Uniform(413, 50 * batch * 5));
        var ys = new float[50 * batch * 3];
        NetworkState<float> other = net.CreateState(batch);
        net.Forward(seq, ys, s);
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            net.Forward(seq, ys, s);
            other.CopyFrom(s);
            s.Reset();
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{cell} B={batch}: {allocated} bytes allocated by Forward / CopyFrom / Reset");
    }
}
