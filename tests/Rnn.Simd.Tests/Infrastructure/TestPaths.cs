using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>
/// The one list of ISA paths the tests run. Every test that iterates paths goes through it, so that widening it (for
/// example to paths emulated in software where the CPU lacks them) widens every such test at once.
/// </summary>
public static class TestPaths
{
    /// <summary>Every concrete path to test, narrowest first. Today: the paths this machine supports.</summary>
    public static IReadOnlyList<IsaPath> All { get; } = Build();

    /// <summary><see cref="All"/> as xunit MemberData rows.</summary>
    public static TheoryData<IsaPath> Theory()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in All) data.Add(p);
        return data;
    }

    private static IsaPath[] Build()
    {
        var paths = new IsaPath[Isa.SupportedPaths.Count];
        for (int i = 0; i < paths.Length; i++) paths[i] = Isa.SupportedPaths[i];
        return paths;
    }
}
