using BenchmarkDotNet.Attributes;
using Rnn.Simd.Alternatives.Readout;
using Rnn.Simd.Alternatives.Reservoir;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Network;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Echo state network fitting (issue 12, part 5: "fitting a 1,000-unit reservoir on the whole hourly series takes
/// under 2 s on one core"). <see cref="Fit"/> is the work of <see cref="EsnTrainer{T}.Fit"/> without its one-off
/// allocations: the sparse reservoir run over 22,872 steps (the hourly ACEA series, 22,896 hours, minus the 24-hour
/// horizon; the values do not change the cost), the weighted Gram matrix of [h; 1] accumulated by blocked GEMMs in
/// double, and the Cholesky solve. <see cref="Run"/> is the reservoir run alone, <see cref="Accumulate"/> the Gram
/// accumulation alone (the part that does not depend on the density). One thread. The reservoir is drawn (and its
/// spectral radius estimated) in the setup, not timed: drawing a 1000-unit reservoir is part of creating the network.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class ReservoirBenchmarks : IWorkload
{
    private const int Steps = 22_872, Units = 1000;
    private ReservoirRunner<float> _runner = null!;
    private RidgeReadout _readout = null!;
    private float[] _x = [], _y = [], _h = [], _z = [], _beta = [];

    /// <summary>Fraction of non-zero reservoir weights.</summary>
    [Params(0.01, 0.05)]
    public double Density { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new EsnOptions { Units = Units, Density = Density, LeakRate = 1, Seed = 1 };
        RecurrentNetwork<float> net = EchoStateNetwork.CreateNetwork<float>(options, 1, 1);
        _runner = new ReservoirRunner<float>(net);
        _readout = new RidgeReadout(Units + 1, 1, lastFeatureIsBias: true);
        _x = Data.Uniform(Steps, salt: 5);
        _y = Data.Uniform(Steps, salt: 6);
        _h = new float[Units];
        _z = new float[Units + 1];
        _z[^1] = 1;
        _beta = new float[Units + 1];
    }

    [Benchmark]
    public float Fit()
    {
        Array.Clear(_h);
        _readout.Reset();
        for (int t = 0; t < Steps; t++)
        {
            _runner.Step(_x.AsSpan(t, 1), _h);
            _h.CopyTo(_z, 0);
            _readout.Add<float>(_z, _y.AsSpan(t, 1), 1.0);
        }
        _readout.Solve<float>(1.0, _beta);
        return _beta[0];
    }

    [Benchmark]
    public float Run()
    {
        Array.Clear(_h);
        for (int t = 0; t < Steps; t++) _runner.Step(_x.AsSpan(t, 1), _h);
        return _h[0];
    }

    [Benchmark]
    public float Accumulate()
    {
        _readout.Reset();
        for (int t = 0; t < Steps; t++) _readout.Add<float>(_z, _y.AsSpan(t, 1), 1.0);
        _readout.Solve<float>(1.0, _beta);
        return _beta[0];
    }

    /// <summary>The Gram matrix's lower triangle (D²/2 multiply-adds per row) and the sparse product (Density·N²).</summary>
    public double Flops(string method)
    {
        double gram = 2.0 * Steps * (Units + 1.0) * (Units + 2.0) / 2, run = 2.0 * Steps * Density * Units * Units;
        return method switch { nameof(Run) => run, nameof(Accumulate) => gram, _ => gram + run };
    }

    public double Bytes(string method) => 0;
}
