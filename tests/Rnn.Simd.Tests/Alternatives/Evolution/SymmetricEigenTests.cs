using Rnn.Simd.Alternatives.Evolution;

namespace Rnn.Simd.Tests.Alternatives.Evolution;

public class SymmetricEigenTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(7, 3)]
    [InlineData(17, 4)]
    [InlineData(40, 5)]
    public void Decompose_GivesOrthonormalVectors_ThatDiagonaliseTheMatrix(int n, ulong seed)
    {
        // A = M Mᵀ / n + diag(spread): symmetric, positive definite, eigenvalues spread over decades like a CMA-ES C.
        var rng = new Rng(seed);
        var mtx = new double[n * n];
        for (int i = 0; i < mtx.Length; i++) mtx[i] = rng.NextNormal();
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += mtx[i * n + k] * mtx[j * n + k];
                a[i * n + j] = s / n + (i == j ? Math.Pow(10, 4.0 * i / Math.Max(1, n - 1)) : 0);
            }
        var work = (double[])a.Clone();
        var values = new double[n];
        var v = new double[n * n];
        SymmetricEigen.Decompose(work, n, values, v);
        double scale = values.Max(Math.Abs);
        // Vᵀ V = I and A v_j = λ_j v_j, checked directly with plain loops.
        for (int p = 0; p < n; p++)
        {
            for (int q = 0; q < n; q++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += v[k * n + p] * v[k * n + q];
                Assert.Equal(p == q ? 1.0 : 0.0, dot, 1e-12);
            }
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * v[k * n + p];
                Assert.Equal(values[p] * v[i * n + p], av, 1e-11 * scale);
            }
        }
        // The trace is preserved.
        double trace = 0;
        for (int i = 0; i < n; i++) trace += a[i * n + i];
        Assert.Equal(trace, values.Sum(), 1e-10 * scale);
    }

    [Fact]
    public void Decompose_OfADiagonalMatrix_ReturnsItsDiagonalAndTheIdentity()
    {
        double[] a = [3, 0, 0, 0, -1, 0, 0, 0, 5];
        var values = new double[3];
        var v = new double[9];
        SymmetricEigen.Decompose(a, 3, values, v);
        Assert.Equal(new double[] { 3, -1, 5 }, values);
        Assert.Equal(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, v);
    }
}
