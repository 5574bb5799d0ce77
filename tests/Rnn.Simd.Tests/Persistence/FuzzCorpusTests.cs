using Rnn.Simd.Fuzz;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// Replays the fuzzing corpus (tests/Rnn.Simd.Fuzz/corpus/TARGET/: the seeds, every input that ever crashed a reader
/// or broke the allocation bound, and a sample of the inputs afl-fuzz kept for new coverage) through the same target
/// code the harness runs under AFL++: each file must load or be rejected with a documented exception, and no call may
/// allocate more than <see cref="FuzzTargets.AllocationBound"/> of its input's size. A finding escapes as the
/// exception itself (IndexOutOfRange, Overflow, ...) or as an <see cref="AllocationBoundExceededException"/>.
/// </summary>
public class FuzzCorpusTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "FuzzCorpus");

    public static TheoryData<string, string> CorpusFiles()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in FuzzTargets.Names)
        {
            string dir = Path.Combine(Root, target);
            if (!Directory.Exists(dir)) continue;
            foreach (string file in Directory.GetFiles(dir).Order(StringComparer.Ordinal)) data.Add(target, Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CorpusFiles))]
    public void CorpusFile_LoadsOrIsRejectedWithADocumentedException_WithinTheAllocationBound(string target, string file)
    {
        string result = FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(Root, target, file)));
        // The seeds are valid files written by the library: they must load (else the fuzzer starts from rejections).
        if (file.StartsWith("seed-", StringComparison.Ordinal)) Assert.StartsWith("loaded", result);
    }

    [Fact]
    public void EveryTarget_HasSeeds()
    {
        foreach (string target in FuzzTargets.Names)
        {
            string dir = Path.Combine(Root, target);
            Assert.True(Directory.Exists(dir), $"no corpus for target '{target}' at {dir}");
            Assert.Contains(Directory.GetFiles(dir), f => Path.GetFileName(f).StartsWith("seed-", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Reseal_MakesAMutatedContainerPassTheChecksum()
    {
        // The harness's way past the SHA-256 trailer: a flipped weight byte is rejected as is and loads once resealed.
        byte[] bytes = File.ReadAllBytes(Path.Combine(Root, "model", "seed-elman-float"));
        bytes[100] ^= 0x01;
        string result = FuzzTargets.Run("model", bytes);
        Assert.StartsWith("loaded", result);
        Assert.Contains("raw: rejected: checksum mismatch", result);
    }

    [Fact]
    public void AllocationBound_Is64BytesPerInputByte_Plus1MiB()
    {
        Assert.Equal(1L << 20, FuzzTargets.AllocationBound(0));
        Assert.Equal(64L * 1000 + (1 << 20), FuzzTargets.AllocationBound(1000));
    }
}
