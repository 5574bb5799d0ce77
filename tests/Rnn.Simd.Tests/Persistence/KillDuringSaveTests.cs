using System.Diagnostics;
using Rnn.Simd.Persistence;
using Xunit.Abstractions;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Crash safety of the atomic save (issue #15): a child process (tests/Rnn.Simd.SaveLoop) saves two versions of a model
/// file or a checkpoint to one path, alternately and without pause, and is killed (SIGKILL on Unix, TerminateProcess on
/// Windows) at a random moment, many times. After every kill the file at the path is exactly one of the two versions
/// (never a torn or missing file), and the next successful save leaves no temporary file behind. Only invariants are
/// asserted: where the kills land (mid-write, between write and rename, after the rename) is left to chance, and the
/// test reports the count of kills that left a temporary file.
/// </summary>
public class KillDuringSaveTests(ITestOutputHelper output)
{
    private const int Kills = 25;

    /// <summary>Upper end of the random delay between the child's first completed save and the kill.</summary>
    private const int MaxDelayMs = 40;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);

    [Theory]
    [InlineData("model", 11)]
    [InlineData("checkpoint", 12)]
    public void KilledAtRandomMoments_ThePathAlwaysHoldsTheOldOrTheNewFile_AndTheNextSaveCleansUp(string kind, int seed)
    {
        using var dir = new TempDir();
        string versions = Directory.CreateDirectory(Path.Combine(dir.Path, "versions")).FullName;
        string a = Path.Combine(versions, "a"), b = Path.Combine(versions, "b");
        RunToEnd("versions", kind, a, b);
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));

        string work = Directory.CreateDirectory(Path.Combine(dir.Path, "work")).FullName;
        string path = Path.Combine(work, kind == "model" ? "m.rnnsimd" : "run.ckpt");
        var rng = new Random(seed);
        int leftTemp = 0, sawA = 0, sawB = 0;
        for (int k = 0; k < Kills; k++)
        {
            using (Process child = Start("loop", kind, path, a, b))
            {
                string? line = ReadLineWithin(child, StartTimeout);
                if (line != "ready")
                {
                    if (!child.HasExited) child.Kill();
                    Assert.Fail($"kill {k}: the child said '{line}' instead of 'ready'; stderr: {child.StandardError.ReadToEnd()}");
                }
                Thread.Sleep(rng.Next(MaxDelayMs));
                child.Kill();
                child.WaitForExit();
            }

            Assert.True(File.Exists(path), $"kill {k}: nothing at the target path");
            int version = Version(kind, path, a, b);
            Assert.True(version != 0, $"kill {k}: the file at the target path is neither version (torn?)");
            if (version == 1) sawA++; else sawB++;
            if (Directory.GetFiles(work).Length > 1) leftTemp++;
        }
        output.WriteLine($"{kind}: {Kills} kills; the path held version A {sawA} times, B {sawB} times; {leftTemp} kill(s) left a temporary file");

        // The next successful save removes what the killed saves left behind.
        if (kind == "model") ModelFile.Save(path, ModelFile.Load(a).GetNetwork<float>());
        else TrainingCheckpoint.Load(a).Save(path);
        Assert.Equal([path], Directory.GetFiles(work));
        Assert.Equal(1, Version(kind, path, a, b));
    }

    /// <summary>1 or 2 when the file at <paramref name="path"/> is version A or B, 0 otherwise.</summary>
    private static int Version(string kind, string path, string a, string b)
    {
        if (kind == "model")
        {
            // A saved model is its bytes: the loop saves loaded networks, which writes the version's bytes exactly.
            byte[] bytes = File.ReadAllBytes(path);
            return bytes.AsSpan().SequenceEqual(File.ReadAllBytes(a)) ? 1 : bytes.AsSpan().SequenceEqual(File.ReadAllBytes(b)) ? 2 : 0;
        }
        // A checkpoint must load (its SHA-256 covers every byte) and carry one version's state.
        TrainingCheckpoint loaded = TrainingCheckpoint.Load(path);
        float[] parameters = loaded.CreateNetwork<float>().Parameters.ToArray();
        for (int v = 1; v <= 2; v++)
        {
            TrainingCheckpoint expected = TrainingCheckpoint.Load(v == 1 ? a : b);
            if (loaded.CompletedEpochs == expected.CompletedEpochs && parameters.AsSpan().SequenceEqual(expected.CreateNetwork<float>().Parameters))
                return v;
        }
        return 0;
    }

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Rnn.Simd.SaveLoop.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        return Process.Start(start) ?? throw new InvalidOperationException("the child process did not start");
    }

    private static void RunToEnd(params string[] args)
    {
        using Process child = Start(args);
        string stderr = child.StandardError.ReadToEnd();
        child.WaitForExit();
        Assert.True(child.ExitCode == 0, $"Rnn.Simd.SaveLoop {string.Join(' ', args)} exited with {child.ExitCode}: {stderr}");
    }

    /// <summary>A liveness guard (a child that never starts fails the test instead of hanging it), not a speed check.</summary>
    private static string? ReadLineWithin(Process child, TimeSpan timeout)
    {
        Task<string?> read = child.StandardOutput.ReadLineAsync();
        if (read.Wait(timeout)) return read.Result;
        child.Kill();
        return $"(nothing within {timeout.TotalSeconds} s)";
    }

    /// <summary>The dotnet host running the tests (testhost runs under it), else the one on the PATH.</summary>
    private static string DotnetHost()
    {
        string? current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current).Equals("dotnet", StringComparison.OrdinalIgnoreCase) ? current : "dotnet";
    }
}
