using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;

namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>
/// Class-level config of every suite ([Config(typeof(BenchConfig))]): the GFLOP/s and GB/s columns and the
/// <see cref="IWorkload.Include"/> filter. The job (real or smoke) comes from Program.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddColumn(ThroughputColumn.GFlops, ThroughputColumn.GBytes);
        AddFilter(new SimpleFilter(b => WorkloadReflection.Create(b)?.Include(WorkloadReflection.Method(b)) ?? true));
    }
}
