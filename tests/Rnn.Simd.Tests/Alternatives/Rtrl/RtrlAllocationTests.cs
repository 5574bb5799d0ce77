using Rnn.Simd.Alternatives.Rtrl;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Rtrl;

/// <summary>
/// After warm-up an RTRL training step (forward with sensitivities, the step's gradient, an Adam update every k steps
/// with the weights repacked) allocates nothing: <see cref="GC.GetAllocatedBytesForCurrentThread"/> does not move over
/// 100 steps, for every cell, one and two layers, in float.
/// </summary>
[Collection(Rnn.Simd.Tests.Kernels.AllocationCollection.Name)]
public class RtrlAllocationTests
{
    [Theory]
    [InlineData(CellType.Elman, 1, 1)]
    [InlineData(CellType.Lstm, 1, 1)]
    [InlineData(CellType.Gru, 1, 1)]
    [InlineData(CellType.Lstm, 2, 3)]
    [InlineData(CellType.Gru, 2, 3)]
    public void TrainStep_AllocatesNothingAfterWarmUp(CellType cell, int layers, int updateEvery)
    {
        const int steps = 100;
        int[] hidden = layers == 1 ? [7] : [7, 5];
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(cell, 3, hidden, 2), 121);
        var data = new SequenceData<float>(Convert<float>(Uniform(122, steps * 3)), Convert<float>(Uniform(123, steps * 2)), 3, 2,
            Convert<float>(Uniform(124, steps * 2, 0, 1)));
        var trainer = new RtrlTrainer<float>(net, new RtrlOptions { UpdateEvery = updateEvery, ClipNorm = 1 });
        trainer.BeginEpoch();
        for (int t = 0; t < 3; t++) trainer.TrainStep(data, t, 1);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 3; t < steps; t++) trainer.TrainStep(data, t, 1);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated == 0, $"{cell} L={layers} k={updateEvery}: {allocated} bytes allocated over {steps - 3} steps after warm-up");
        Assert.True(trainer.Optimizer.StepCount >= (steps - 1) / updateEvery, $"only {trainer.Optimizer.StepCount} updates ran");
    }
}
