using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Kernels;

/// <summary>
/// The packed product reads its operand through a raw pointer into a pinned array. Pinned is not rooted: if the
/// operand's owner dies during the product (a caller passing a temporary), a GC may free the array while it is read.
/// This runs products over temporaries while another thread collects and reuses the freed pinned memory with garbage.
/// </summary>
public class GemmLifetimeTests
{
    [Fact]
    public void PackedProduct_OverATemporaryOperand_SurvivesConcurrentCollections()
    {
        const int m = 64, n = 1024, k = 300;
        var rng = new Random(5);
        double[] a = new double[m * k], b = new double[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble() - 0.5;
        for (int i = 0; i < b.Length; i++) b[i] = rng.NextDouble() - 0.5;
        var expected = new double[m * n];
        Gemm.Multiply(Transpose.None, Transpose.None, m, n, k, 1.0, a, k, b, n, 0.0, expected, n);
        using var stop = new CancellationTokenSource();
        var churn = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                double[] junk = GC.AllocateUninitializedArray<double>(k * n + 64, pinned: true);
                junk.AsSpan().Fill(1e300);
            }
        }) { IsBackground = true };
        churn.Start();
        try
        {
            var c = new double[m * n];
            for (int round = 0; round < 60; round++)
            {
                Gemm.Multiply(Transpose.None, m, 1.0, a, k, PackedMatrix<double>.Create(Transpose.None, k, n, b, n), 0.0, c, n);
                Assert.Equal(expected, c);
            }
        }
        finally
        {
            stop.Cancel();
            churn.Join();
        }
    }
}
