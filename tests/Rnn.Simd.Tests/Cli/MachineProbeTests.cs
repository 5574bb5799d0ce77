using System.Diagnostics;
using Rnn.Simd.Cli.Diagnostics;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Cli;

// Sanity only: these tests must pass on a slow, loaded or narrow machine, so they assert that the probes return
// positive finite figures within a loose time bound, never how fast the machine is.
public class MachineProbeTests
{
    public static TheoryData<IsaPath> SupportedPaths()
    {
        var data = new TheoryData<IsaPath> { IsaPath.Auto };
        foreach (IsaPath p in Isa.SupportedPaths) data.Add(p);
        return data;
    }

    [Fact]
    public void Describe_FillsEveryField()
    {
        MachineDescription d = MachineProbe.Describe();

        Assert.Equal(Isa.Best, d.IsaPath);
        Assert.Equal(Isa.Describe(Isa.Best), d.IsaDescription);
        Assert.Contains(IsaPath.Scalar, d.SupportedPaths);
        Assert.Contains(Isa.Best, d.SupportedPaths);
        Assert.Equal(Isa.VectorBytes(Isa.Best), d.VectorBytes);
        Assert.Equal(d.VectorBytes == 0 ? 1 : d.VectorBytes / 4, d.VectorFloats);
        Assert.True(d.LogicalCores >= 1);
        Assert.False(string.IsNullOrWhiteSpace(d.OSDescription));
        Assert.False(string.IsNullOrWhiteSpace(d.RuntimeVersion));
        Assert.False(string.IsNullOrWhiteSpace(d.ProcessArchitecture));
        if (File.Exists("/proc/cpuinfo") && File.ReadAllText("/proc/cpuinfo").Contains("model name", StringComparison.Ordinal))
            Assert.False(string.IsNullOrWhiteSpace(d.CpuModel));
    }

    [Fact]
    public void ParseCpuModel_ReadsX86ModelName()
    {
        const string text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\n";
        Assert.Equal("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", MachineProbe.ParseCpuModel(text));
    }

    [Fact]
    public void ParseCpuModel_FallsBackToArmModelThenHardware()
    {
        Assert.Equal("Raspberry Pi 4 Model B Rev 1.4",
            MachineProbe.ParseCpuModel("processor\t: 0\nBogoMIPS\t: 108.00\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"));
        Assert.Equal("BCM2835", MachineProbe.ParseCpuModel("processor\t: 0\nHardware\t: BCM2835\n"));
        Assert.Null(MachineProbe.ParseCpuModel("processor\t: 0\nCPU part\t: 0xd0c\n"));
        Assert.Null(MachineProbe.ParseCpuModel(""));
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void MeasurePeakGflops_IsPositiveFiniteAndRoughlyWithinBudget(IsaPath path)
    {
        var budget = TimeSpan.FromMilliseconds(60);
        var clock = Stopwatch.StartNew();

        double gflops = MachineProbe.MeasurePeakGflops(path, budget);

        Assert.True(double.IsFinite(gflops) && gflops > 0, $"peak {gflops}");
        // Loose: calibration may overshoot and a loaded machine may deschedule the thread.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void MeasurePeakGflops_RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasurePeakGflops(IsaPath.Auto, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasurePeakGflops(IsaPath.Auto, TimeSpan.FromSeconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasurePeakGflops((IsaPath)99, TimeSpan.FromMilliseconds(10)));
        foreach (IsaPath p in new[] { IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 })
        {
            if (!Isa.IsSupported(p))
                Assert.Throws<PlatformNotSupportedException>(() => MachineProbe.MeasurePeakGflops(p, TimeSpan.FromMilliseconds(10)));
        }
    }

    [Fact]
    public void MeasureBandwidthGBps_SmallBuffer_IsPositiveFiniteAndRoughlyWithinBudget()
    {
        var clock = Stopwatch.StartNew();

        double gbps = MachineProbe.MeasureBandwidthGBps(TimeSpan.FromMilliseconds(30), 1 << 20);

        Assert.True(double.IsFinite(gbps) && gbps > 0, $"bandwidth {gbps}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Fact]
    public void MeasureBandwidthGBps_DefaultBuffer_TimesAtLeastThreeCopiesAndReturns()
    {
        var clock = Stopwatch.StartNew();

        double gbps = MachineProbe.MeasureBandwidthGBps(TimeSpan.FromMilliseconds(1));

        Assert.True(double.IsFinite(gbps) && gbps > 0, $"bandwidth {gbps}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void MeasureBandwidthGBps_RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasureBandwidthGBps(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasureBandwidthGBps(TimeSpan.FromMilliseconds(10), 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => MachineProbe.MeasureBandwidthGBps(TimeSpan.FromMilliseconds(10), (1L << 30) + 1));
    }
}
