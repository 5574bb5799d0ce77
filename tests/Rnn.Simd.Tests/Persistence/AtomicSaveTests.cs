using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>
/// The atomic save's housekeeping (issue #15): the directory flush after the rename, and the removal of the temporary
/// files a killed save leaves, which must never touch a save in progress or a file that is not one of ours.
/// </summary>
public class AtomicSaveTests
{
    private static RecurrentNetwork<float> Net() => new(new NetworkArchitecture(CellType.Elman, 1, [2], 1), seed: 1);

    [Fact]
    public void DirectoryFlush_RunsOnUnix()
    {
        using var dir = new TempDir();
        // Windows has no directory flush (the remarks of AtomicFile say what NTFS gives instead).
        Assert.Equal(!OperatingSystem.IsWindows(), DirectorySync.Flush(dir.Path));
        Assert.False(DirectorySync.Flush(Path.Combine(dir.Path, "no such directory")));
    }

    [Fact]
    public void Save_RemovesStaleTemporaryFiles_KeepsLiveOnesAndLookAlikes()
    {
        using var dir = new TempDir();
        string path = dir.File("m.rnnsimd");
        string stale1 = dir.File(AtomicFile.TempName("m.rnnsimd", Guid.NewGuid()));
        string stale2 = dir.File(AtomicFile.TempName("m.rnnsimd", Guid.NewGuid()));
        string live = dir.File(AtomicFile.TempName("m.rnnsimd", Guid.NewGuid()));
        string[] keep =
        [
            dir.File(AtomicFile.TempName("other.rnnsimd", Guid.NewGuid())),       // another destination's
            dir.File(".m.rnnsimd.backup.tmp"),                                     // not a GUID
            dir.File(".m.rnnsimd." + Guid.NewGuid().ToString("N").ToUpperInvariant() + ".tmp"), // not what we write
            dir.File("m.rnnsimd." + Guid.NewGuid().ToString("N") + ".tmp"),        // no leading dot
            dir.File(AtomicFile.TempName("m.rnnsimd", Guid.NewGuid()) + ".keep"),
        ];
        foreach (string f in (string[])[stale1, stale2, live, .. keep]) File.WriteAllBytes(f, [1, 2, 3]);

        // A save in progress holds its temporary file open exclusively, as AtomicFile.Write does.
        using (var writer = new FileStream(live, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            ModelFile.Save(path, Net());
            Assert.False(File.Exists(stale1), "a stale temporary file survived the save");
            Assert.False(File.Exists(stale2), "a stale temporary file survived the save");
            Assert.True(File.Exists(live), "the save deleted another writer's temporary file");
        }
        foreach (string f in keep) Assert.True(File.Exists(f), $"the save deleted {Path.GetFileName(f)}, which is not its temporary file");
        Assert.Equal(Net().Parameters.ToArray(), ModelFile.Load(path).GetNetwork<float>().Parameters.ToArray());

        // Once its writer is gone, the next save removes it too.
        ModelFile.Save(path, Net());
        Assert.False(File.Exists(live));
    }

    [Fact]
    public void Save_WithWildcardCharactersInTheName_CleansOnlyItsOwnTemporaryFiles()
    {
        if (OperatingSystem.IsWindows()) return; // '*' and '?' are not allowed in Windows file names.
        using var dir = new TempDir();
        string path = dir.File("m*?.rnnsimd");
        string stale = dir.File(AtomicFile.TempName("m*?.rnnsimd", Guid.NewGuid()));
        string other = dir.File(AtomicFile.TempName("mab.rnnsimd", Guid.NewGuid()));
        File.WriteAllBytes(stale, [1]);
        File.WriteAllBytes(other, [1]);
        ModelFile.Save(path, Net());
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(other));
    }

    [Theory]
    [InlineData("m.rnnsimd", ".m.rnnsimd.0123456789abcdef0123456789abcdef.tmp", true)]
    [InlineData("m.rnnsimd", ".m.rnnsimd.0123456789abcdef0123456789abcdeg.tmp", false)]
    [InlineData("m.rnnsimd", ".m.rnnsimd.0123456789abcdef0123456789abcde.tmp", false)]
    [InlineData("m.rnnsimd", ".m.rnnsimd.0123456789ABCDEF0123456789abcdef.tmp", false)]
    [InlineData("m.rnnsimd", "xm.rnnsimd.0123456789abcdef0123456789abcdef.tmp", false)]
    [InlineData("m.rnnsimd", ".m.rnnsimdx0123456789abcdef0123456789abcdef.tmp", false)]
    [InlineData("m.rnnsimd", ".m.rnnsimd.0123456789abcdef0123456789abcdef.tmq", false)]
    [InlineData("m", ".m.rnnsimd.0123456789abcdef0123456789abcdef.tmp", false)]
    public void IsTempName_MatchesExactlyTheNamesTheSaveGives(string name, string candidate, bool expected)
    {
        Assert.Equal(expected, AtomicFile.IsTempName(candidate, name));
        Assert.True(AtomicFile.IsTempName(AtomicFile.TempName(name, Guid.NewGuid()), name));
    }
}
