using System.Reflection;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Rnn.Simd.Benchmarks.Infrastructure;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Benchmarks;

/// <summary>
/// Entry point. Real runs take BenchmarkDotNet's usual arguments, e.g.
/// <c>dotnet run -c Release --project bench/Rnn.Simd.Benchmarks -- --filter '*GemmBenchmarks*'</c>.
/// <c>--smoke</c> runs every benchmark once, in this process (no per-benchmark build), as a CI check that each one
/// runs, throws nothing and allocates nothing; the exit code is non-zero if any fails.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        bool smoke = args.Contains("--smoke", StringComparer.OrdinalIgnoreCase);
        args = args.Where(a => !a.Equals("--smoke", StringComparison.OrdinalIgnoreCase)).ToArray();

        PrintMachine(smoke);

        IConfig config = DefaultConfig.Instance;
        if (smoke)
        {
            // Dry: one cold invocation per case, no pilot, no warm-up; the emitted in-process runner avoids
            // generating and building a project per benchmark, which is what makes the smoke take seconds.
            config = DefaultConfig.Instance
                .AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("Smoke"))
                .WithOptions(ConfigOptions.DisableLogFile);
            if (!args.Any(a => a is "--filter" or "-f" or "--list" or "--allCategories" or "--anyCategories"))
                args = [.. args, "--filter", "*"];
        }

        Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config).ToArray();
        // --list, --help, --info and --version run nothing, and that is not a failure.
        bool runsNothing = args.Any(a => a is "--list" or "--help" or "-h" or "--info" or "--version");
        return runsNothing ? 0 : Check(summaries, smoke);
    }

    private static void PrintMachine(bool smoke)
    {
        Console.WriteLine($"Rnn.Simd benchmarks{(smoke ? " (smoke: every case once, in process)" : "")}");
        Console.WriteLine($"  ISA path (Isa.Best): {Isa.Describe(Isa.Best)}");
        Console.WriteLine($"  Supported paths:     {string.Join(", ", Isa.SupportedPaths)}");
        Console.WriteLine($"  Vector512 hardware:  {Vector512.IsHardwareAccelerated}");
        Console.WriteLine($"  Cores (logical):     {Environment.ProcessorCount}; GEMM worker pool: {WorkerPool.Shared.MaxDegreeOfParallelism} threads");
        string? cap = Environment.GetEnvironmentVariable("RNN_SIMD_ISA");
        if (!string.IsNullOrWhiteSpace(cap)) Console.WriteLine($"  RNN_SIMD_ISA cap:    {cap}");
        Console.WriteLine();
    }

    /// <summary>
    /// Non-zero exit when nothing ran or a case failed (it, or its setup, threw). The smoke also fails a case that
    /// allocates in steady state (<see cref="AllocationCheck"/>); a real run only warns, from MemoryDiagnoser's figure.
    /// </summary>
    private static int Check(Summary[] summaries, bool smoke)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        if (summaries.Sum(s => s.BenchmarksCases.Length) == 0)
            problems.Add("no benchmark ran (does the filter match anything?)");
        foreach (Summary summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
                problems.AddRange(summary.ValidationErrors.Where(e => e.IsCritical).Select(e => $"validation: {e.Message}"));
            foreach (BenchmarkCase benchmarkCase in summary.BenchmarksCases)
            {
                BenchmarkReport? report = summary[benchmarkCase];
                string name = $"{benchmarkCase.Descriptor.DisplayInfo} [{benchmarkCase.Parameters.DisplayInfo}]";
                if (report is null || !report.Success || report.ResultStatistics is null)
                {
                    problems.Add($"failed (its exception is in the log above): {name}");
                    continue;
                }
                if (smoke)
                {
                    long bytes;
                    try
                    {
                        bytes = AllocationCheck.BytesPerCall(benchmarkCase);
                    }
                    catch (Exception e)
                    {
                        problems.Add($"failed in the allocation check: {name}: {(e is TargetInvocationException { InnerException: { } inner } ? inner : e).Message}");
                        continue;
                    }
                    if (bytes != 0) problems.Add($"allocates {bytes} B per call after warm-up: {name}");
                }
                else if (report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase) is > 0 and long allocated)
                {
                    warnings.Add($"MemoryDiagnoser reports {allocated} B per operation: {name}");
                }
            }
        }

        foreach (string warning in warnings) Console.WriteLine($"warning: {warning}");
        int total = summaries.Sum(s => s.BenchmarksCases.Length);
        string mode = smoke ? "Smoke" : "Benchmarks";
        if (problems.Count == 0)
        {
            Console.WriteLine($"{mode}: {total} passed, 0 failed");
            return 0;
        }
        foreach (string problem in problems) Console.Error.WriteLine($"{mode} problem: {problem}");
        Console.WriteLine($"{mode}: {Math.Max(0, total - problems.Count)} passed, {problems.Count} failed");
        return 1;
    }
}
