using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Rnn.Simd.Tests.Arm64Runner;

/// <summary>
/// A small in-process xUnit v2 runner for Rnn.Simd.Tests, for a process `dotnet test` cannot host (linux-arm64 under
/// qemu-aarch64-static on an x86 machine). It discovers and runs the tests with xunit.execution's XunitTestFramework,
/// prints each failure, one line per finished test class and a summary, and exits non-zero on any failure, on an
/// error outside a test (class fixture, collection cleanup, ...) and when the selection is empty.
/// </summary>
/// <remarks>
/// Usage: Rnn.Simd.Tests.Arm64Runner [selection] [options]
/// <list type="bullet">
/// <item><c>--namespace NS</c> (repeatable): test classes in namespace NS or below it, e.g. Rnn.Simd.Tests.Kernels.</item>
/// <item><c>--fqn TEXT</c> (repeatable): tests whose Namespace.Class.Method contains TEXT (dotnet test's FullyQualifiedName~TEXT).</item>
/// <item><c>--trait NAME=VALUE</c> (repeatable): tests carrying that trait.</item>
/// <item><c>--exclude-fqn TEXT</c> (repeatable): drop tests whose Namespace.Class.Method contains TEXT.</item>
/// <item>No selection runs every test. Selections combine with "or"; exclusions apply after them.</item>
/// <item><c>--list</c>: print the selected tests and exit. <c>--max-threads N</c>, <c>--no-parallel</c>: parallelism
/// (default: xunit's, one thread per core, test classes in parallel). <c>--slowest N</c>: list the N slowest tests (default 10).</item>
/// <item><c>--require-arch ARCH</c>: fail unless the process runs as ARCH (x64, arm64), so an emulator set-up that
/// silently ran the host build cannot pass for the other ISA.</item>
/// <item><c>--rnn-simd ARGS...</c>: instead of tests, run the rnn-simd tool in this process with ARGS (e.g. info).</item>
/// </list>
/// Exit codes: 0 all selected tests passed or were skipped; 1 a failure; 2 no test selected; 3 bad arguments;
/// 4 wrong architecture.
/// </remarks>
public static class Program
{
    private const string TestAssemblyName = "Rnn.Simd.Tests";

    public static int Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 3;
        }

        if (options.ToolArgs is not null)
            return Rnn.Simd.Cli.Program.Main(options.ToolArgs);

        PrintMachine();
        if (options.RequireArch is { } arch && !string.Equals(RuntimeInformation.ProcessArchitecture.ToString(), arch, StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"error: the process runs as {RuntimeInformation.ProcessArchitecture}, --require-arch asked for {arch}");
            return 4;
        }

        if (RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 && Environment.GetEnvironmentVariable("DOTNET_EnableWriteXorExecute") != "0")
            Console.WriteLine("note: under QEMU user emulation set DOTNET_EnableWriteXorExecute=0 (with W^X the emulator runs stale code)");
        return Run(options);
    }

#pragma warning disable SYSLIB5003 // Sve is experimental; reading IsSupported is all this does
    private static void PrintMachine()
    {
        Console.WriteLine($"runtime: {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.RuntimeIdentifier}, " +
                          $"process {RuntimeInformation.ProcessArchitecture}, OS {RuntimeInformation.OSArchitecture}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"vectors: Vector128 {Accel(Vector128.IsHardwareAccelerated)}, Vector256 {Accel(Vector256.IsHardwareAccelerated)}, " +
                          $"Vector512 {Accel(Vector512.IsHardwareAccelerated)}; AdvSimd {System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported}, " +
                          $"SVE {System.Runtime.Intrinsics.Arm.Sve.IsSupported}, " +
                          $"AVX2 {System.Runtime.Intrinsics.X86.Avx2.IsSupported}, FMA {System.Runtime.Intrinsics.X86.Fma.IsSupported}, " +
                          $"AVX-512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        static string Accel(bool b) => b ? "accelerated" : "software";
    }
#pragma warning restore SYSLIB5003

    private static int Run(Options options)
    {
        Assembly assembly = Assembly.Load(TestAssemblyName);
        var diagnostics = new DiagnosticSink();
        using var framework = new XunitTestFramework(diagnostics);

        var clock = Stopwatch.StartNew();
        List<ITestCase> all = Discover(framework, assembly);
        List<ITestCase> selected = all.Where(options.Selects).ToList();
        Console.WriteLine($"discovered {all.Count} tests in {clock.Elapsed.TotalSeconds:F1} s; selected {selected.Count}" +
                          (options.Describe() is { Length: > 0 } d ? $" ({d})" : ""));
        if (selected.Count == 0)
        {
            Console.Error.WriteLine("error: no test selected");
            return 2;
        }

        if (options.ListOnly)
        {
            foreach (ITestCase tc in selected) Console.WriteLine(tc.DisplayName);
            return 0;
        }

        var sink = new ExecutionSink(selected.Count);
        using (ITestFrameworkExecutor executor = framework.GetExecutor(assembly.GetName()))
        {
            var executionOptions = new FrameworkOptions();
            if (options.NoParallel) executionOptions.SetValue("xunit.execution.DisableParallelization", true);
            if (options.MaxThreads is { } n) executionOptions.SetValue("xunit.execution.MaxParallelThreads", n);
            executor.RunTests(selected, sink, executionOptions);
            sink.Finished.WaitOne();
        }

        sink.PrintSlowest(options.Slowest);
        int failed = sink.Failed + sink.Errors;
        Console.WriteLine($"summary: {sink.Total} run, {sink.Passed} passed, {sink.Failed} failed, {sink.Skipped} skipped, " +
                          $"{sink.Errors} errors outside tests, {clock.Elapsed.TotalSeconds:F1} s");
        if (sink.Total != selected.Count)
        {
            Console.Error.WriteLine($"error: {selected.Count} tests were selected but {sink.Total} reported a result");
            return 1;
        }

        return failed == 0 ? 0 : 1;
    }

    private static List<ITestCase> Discover(XunitTestFramework framework, Assembly assembly)
    {
        using ITestFrameworkDiscoverer discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly));
        var sink = new DiscoverySink();
        var discoveryOptions = new FrameworkOptions();
        // One test case per theory row where the data allows it, as the Visual Studio adapter (dotnet test) counts them.
        discoveryOptions.SetValue("xunit.discovery.PreEnumerateTheories", true);
        discoverer.Find(includeSourceInformation: false, sink, discoveryOptions);
        sink.Finished.WaitOne();
        return sink.TestCases;
    }

    /// <summary>Fully qualified name of a test case's method: Namespace.Class.Method.</summary>
    internal static string FullName(ITestCase tc) => tc.TestMethod.TestClass.Class.Name + "." + tc.TestMethod.Method.Name;

    /// <summary>Options as xunit reads them (its option bag is just named values).</summary>
    private sealed class FrameworkOptions : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = new();

        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out object? v) && v is TValue t ? t : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    private sealed class DiagnosticSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage d) Console.Error.WriteLine($"xunit: {d.Message}");
            return true;
        }
    }

    private sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
    {
        public List<ITestCase> TestCases { get; } = new();

        public ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestCaseDiscoveryMessage found:
                    TestCases.Add(found.TestCase);
                    break;
                case IDiscoveryCompleteMessage:
                    Finished.Set();
                    break;
                case IErrorMessage error:
                    Console.Error.WriteLine($"discovery error: {string.Join(" | ", error.Messages)}");
                    break;
            }

            return true;
        }
    }

    private sealed class ExecutionSink(int selected) : LongLivedMarshalByRefObject, IMessageSink
    {
        private readonly object _gate = new();
        private readonly List<(string Name, decimal Seconds)> _times = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public ManualResetEvent Finished { get; } = new(false);

        public int Total { get; private set; }

        public int Passed { get; private set; }

        public int Failed { get; private set; }

        public int Skipped { get; private set; }

        public int Errors { get; private set; }

        public bool OnMessage(IMessageSinkMessage message)
        {
            lock (_gate)
            {
                switch (message)
                {
                    case ITestPassed passed:
                        Total++;
                        Passed++;
                        _times.Add((passed.Test.DisplayName, passed.ExecutionTime));
                        break;
                    case ITestFailed failed:
                        Total++;
                        Failed++;
                        _times.Add((failed.Test.DisplayName, failed.ExecutionTime));
                        Console.WriteLine($"FAILED {failed.Test.DisplayName} ({failed.ExecutionTime:F2} s)");
                        PrintFailure(failed);
                        if (!string.IsNullOrWhiteSpace(failed.Output)) Console.WriteLine("  output:\n" + Indent(failed.Output));
                        break;
                    case ITestSkipped skipped:
                        Total++;
                        Skipped++;
                        Console.WriteLine($"skipped {skipped.Test.DisplayName}: {skipped.Reason}");
                        break;
                    case ITestClassFinished cls:
                        Console.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:F1} s] {Total,5}/{selected} {cls.TestClass.Class.Name}: " +
                                          $"{cls.TestsRun} run in {cls.ExecutionTime:F1} s, {cls.TestsFailed} failed, {cls.TestsSkipped} skipped");
                        break;
                    case IErrorMessage error:
                        Errors++;
                        Console.WriteLine("ERROR (outside a test)");
                        PrintFailure(error);
                        break;
                    case IFailureInformation cleanup and not ITestFailed:
                        // Fixture and cleanup failures: class, collection, assembly, method, test case, test.
                        Errors++;
                        Console.WriteLine($"ERROR {message.GetType().Name}");
                        PrintFailure(cleanup);
                        break;
                    case ITestAssemblyFinished:
                        Finished.Set();
                        break;
                }
            }

            return true;
        }

        public void PrintSlowest(int count)
        {
            if (count <= 0 || _times.Count == 0) return;
            Console.WriteLine($"slowest {Math.Min(count, _times.Count)} tests:");
            foreach ((string name, decimal seconds) in _times.OrderByDescending(t => t.Seconds).Take(count))
                Console.WriteLine($"  {seconds,8:F2} s  {name}");
        }

        private static void PrintFailure(IFailureInformation failure)
        {
            for (int i = 0; i < failure.Messages.Length; i++)
            {
                string type = i < failure.ExceptionTypes.Length ? failure.ExceptionTypes[i] : "?";
                Console.WriteLine($"  {type}: {failure.Messages[i]}");
                if (i < failure.StackTraces.Length && !string.IsNullOrEmpty(failure.StackTraces[i]))
                    Console.WriteLine(Indent(failure.StackTraces[i]));
            }
        }

        private static string Indent(string text) => "    " + text.TrimEnd().Replace("\n", "\n    ");
    }

    private sealed class Options
    {
        private readonly List<string> _namespaces = new();
        private readonly List<string> _fqns = new();
        private readonly List<(string Name, string Value)> _traits = new();
        private readonly List<string> _excludes = new();

        public bool ListOnly { get; private set; }

        public bool NoParallel { get; private set; }

        public int? MaxThreads { get; private set; }

        public int Slowest { get; private set; } = 10;

        public string? RequireArch { get; private set; }

        public string[]? ToolArgs { get; private set; }

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
                switch (a)
                {
                    case "--namespace": o._namespaces.Add(Value()); break;
                    case "--fqn": o._fqns.Add(Value()); break;
                    case "--exclude-fqn": o._excludes.Add(Value()); break;
                    case "--trait":
                        string t = Value();
                        int eq = t.IndexOf('=');
                        if (eq <= 0) throw new ArgumentException($"--trait wants NAME=VALUE, got '{t}'");
                        o._traits.Add((t[..eq], t[(eq + 1)..]));
                        break;
                    case "--list": o.ListOnly = true; break;
                    case "--no-parallel": o.NoParallel = true; break;
                    case "--max-threads": o.MaxThreads = PositiveInt(a, Value()); break;
                    case "--slowest": o.Slowest = int.TryParse(Value(), out int s) && s >= 0 ? s : throw new ArgumentException("--slowest wants a count"); break;
                    case "--require-arch": o.RequireArch = Value(); break;
                    case "--rnn-simd": o.ToolArgs = args[(i + 1)..]; return o;
                    default: throw new ArgumentException($"unknown argument '{a}' (see the remarks of Program in tests/Rnn.Simd.Tests.Arm64Runner)");
                }
            }

            return o;
        }

        private static int PositiveInt(string name, string text)
            => int.TryParse(text, out int n) && n > 0 ? n : throw new ArgumentException($"{name} wants a positive integer, got '{text}'");

        public bool Selects(ITestCase tc)
        {
            string fqn = FullName(tc);
            foreach (string x in _excludes)
                if (fqn.Contains(x, StringComparison.Ordinal)) return false;
            if (_namespaces.Count == 0 && _fqns.Count == 0 && _traits.Count == 0) return true;

            string className = tc.TestMethod.TestClass.Class.Name;
            foreach (string ns in _namespaces)
                if (className.StartsWith(ns + ".", StringComparison.Ordinal)) return true;
            foreach (string x in _fqns)
                if (fqn.Contains(x, StringComparison.Ordinal)) return true;
            foreach ((string name, string value) in _traits)
                if (tc.Traits.TryGetValue(name, out List<string>? values) && values.Contains(value)) return true;
            return false;
        }

        public string Describe()
        {
            var parts = new List<string>();
            if (_namespaces.Count > 0) parts.Add("namespaces " + string.Join(", ", _namespaces));
            if (_fqns.Count > 0) parts.Add("names containing " + string.Join(", ", _fqns));
            if (_traits.Count > 0) parts.Add("traits " + string.Join(", ", _traits.Select(t => t.Name + "=" + t.Value)));
            if (_excludes.Count > 0) parts.Add("excluding " + string.Join(", ", _excludes));
            return string.Join("; ", parts);
        }
    }
}
