using Rnn.Simd.Alternatives.Kalman;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>After warm-up an EKF update (forward, O backward passes, the covariance pass, the gain and the weight
/// update) allocates nothing, in float, for both variants and every cell.</summary>
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class EkfAllocationTests
{
    [Theory]
    [InlineData(EkfVariant.Global, CellType.Lstm, 1)]
    [InlineData(EkfVariant.NodeDecoupled, CellType.Gru, 3)]
    [InlineData(EkfVariant.NodeDecoupled, CellType.Elman, 2)]
    public void Update_AllocatesNothingAfterWarmUp(EkfVariant variant, CellType cell, int updateEvery)
    {
        const int input = 3, outputs = 2, updates = 100;
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, input, [7], outputs), 31);
        var trainer = new EkfTrainer<float>(net, new EkfOptions { Variant = variant, UpdateEvery = updateEvery, TruncationDepth = 4 });
        float[] x = Convert<float>(Uniform(32, updateEvery * input)), d = Convert<float>(Uniform(33, updateEvery * outputs, -0.1, 0.1));
        float[] w = Convert<float>(Uniform(34, updateEvery * outputs, 0, 1));
        w[0] = 0;
        double loss = 0, weight = 0;
        for (int i = 0; i < 3; i++) Assert.False(trainer.Update(x, d, w, 1, 1e-4, ref loss, ref weight).Failed);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool failed = false;
        for (int i = 0; i < updates; i++) failed |= trainer.Update(x, d, w, 1, 1e-4, ref loss, ref weight).Failed;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.False(failed);
        Assert.True(allocated == 0, $"{variant} {cell}: {allocated} bytes over {updates} updates");
    }
}
