using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>
/// GFLOP/s (<see cref="IWorkload.Flops"/> / mean) or GB/s (<see cref="IWorkload.Bytes"/> / mean), 10^9 based.
/// Shows "-" where the class gives no figure for the method.
/// </summary>
public sealed class ThroughputColumn : IColumn
{
    private readonly bool _flops;

    private ThroughputColumn(bool flops) => _flops = flops;

    public static readonly IColumn GFlops = new ThroughputColumn(flops: true);
    public static readonly IColumn GBytes = new ThroughputColumn(flops: false);

    public string Id => _flops ? "Rnn.Simd.GFlops" : "Rnn.Simd.GBytes";
    public string ColumnName => _flops ? "GFLOP/s" : "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => _flops ? 0 : 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => _flops
        ? "Floating-point operations per second, 10^9 (an FMA counts 2): work per operation / Mean"
        : "Bytes read + written per second, 10^9 (compulsory traffic): bytes per operation / Mean";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary)
        => summary.BenchmarksCases.Any(b => Work(b) > 0);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double work = Work(benchmarkCase);
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (work <= 0 || stats is null || !(stats.Mean > 0)) return "-";
        double perSecond = work / stats.Mean; // Mean is in ns per operation, so this is already 10^9 per second
        return perSecond.ToString(perSecond >= 100 ? "F0" : perSecond >= 10 ? "F1" : "F2", style.CultureInfo);
    }

    private double Work(BenchmarkCase benchmarkCase)
    {
        IWorkload? workload = WorkloadReflection.Create(benchmarkCase);
        if (workload is null) return 0;
        string method = WorkloadReflection.Method(benchmarkCase);
        return _flops ? workload.Flops(method) : workload.Bytes(method);
    }

    public override string ToString() => ColumnName;
}
