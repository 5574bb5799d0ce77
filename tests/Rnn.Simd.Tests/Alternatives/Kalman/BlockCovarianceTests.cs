using Rnn.Simd.Alternatives.Kalman;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Alternatives.Kalman;

/// <summary>
/// The fused packed pass of <see cref="BlockCovariance"/> against dense matrices: P ← P - VᵀV + q·I restricted to each
/// block, then M = H P, computed with plain loops over a full n x n array.
/// </summary>
public class BlockCovarianceTests
{
    [Theory]
    [InlineData(new[] { 17 }, 1)]
    [InlineData(new[] { 9 }, 3)]
    [InlineData(new[] { 1, 5, 13, 2 }, 2)]
    [InlineData(new[] { 33, 7 }, 4)]
    public void UpdateAndMultiply_EqualsDenseFormulas(int[] sizes, int m)
    {
        var cov = new BlockCovariance(sizes);
        int n = cov.Count;
        var block = new int[n];
        for (int g = 0, i = 0; g < sizes.Length; g++) for (int k = 0; k < sizes[g]; k++) block[i++] = g;
        const double p0 = 2.5, q = 0.125;
        cov.Reset(p0);
        var dense = new double[n, n];
        for (int i = 0; i < n; i++) dense[i, i] = p0;

        for (int round = 0; round < 3; round++)
        {
            double[] h = Uniform((ulong)(10 + round), m * n);
            // A V that keeps P positive definite: small entries.
            double[] v = Uniform((ulong)(20 + round), m * n, -0.2, 0.2);
            var product = new double[m * n];
            bool downdate = round > 0;
            Assert.Equal(-1, cov.UpdateAndMultiply(downdate ? v : default, q, h, product, m));
            if (downdate)
            {
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        if (block[i] != block[j]) continue;
                        double s = 0;
                        for (int k = 0; k < m; k++) s += v[k * n + i] * v[k * n + j];
                        dense[i, j] -= s;
                    }
                    dense[i, i] += q;
                }
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++) Assert.True(Math.Abs(cov[i, j] - dense[i, j]) < 1e-13, $"P[{i},{j}] {cov[i, j]} vs {dense[i, j]}");
            }
            for (int k = 0; k < m; k++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int i = 0; i < n; i++) s += h[k * n + i] * dense[i, j];
                    Assert.True(Math.Abs(product[k * n + j] - s) < 1e-12, $"M[{k},{j}] {product[k * n + j]} vs {s}");
                }
            }
        }
    }

    [Fact]
    public void UpdateAndMultiply_ReportsTheFirstDiagonalThatIsNotPositive()
    {
        var cov = new BlockCovariance([4]);
        cov.Reset(1);
        var v = new double[4];
        v[2] = 1.5; // P[2,2] = 1 - 2.25 < 0
        Assert.Equal(2, cov.UpdateAndMultiply(v, 0, new double[4], new double[4], 1));
    }

    [Fact]
    public void BytesFor_IsThePackedTriangles() => Assert.Equal((10 * 11 / 2 + 3 * 4 / 2) * 8L, BlockCovariance.BytesFor([10, 3]));
}
