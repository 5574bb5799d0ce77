using System.Runtime.CompilerServices;
using Rnn.Simd.Kernels;

namespace Rnn.Simd.Tests.Infrastructure;

/// <summary>
/// The ISA paths every path-iterating test runs: all four, on any machine. A path the CPU lacks runs in software (the
/// .NET vector types compute Vector256 / Vector512 exactly without the instructions; slow, but the same results), so a
/// developer on an AVX2-only machine still tests the Vector512 kernels. The switch is set once for the whole test
/// assembly before any test runs (<see cref="EnableEmulatedPaths"/>); production code never sets it.
/// </summary>
public static class TestPaths
{
    /// <summary>Every concrete path, narrowest first.</summary>
    public static IReadOnlyList<IsaPath> All => Isa.AllPaths;

    /// <summary>The paths as an array (no interface enumerator, so loops over it do not allocate).</summary>
    public static IsaPath[] Array() => [.. Isa.AllPaths];

    /// <summary>Every path as xunit MemberData rows.</summary>
    public static TheoryData<IsaPath> Theory() => Data();

    /// <summary>Every path as xunit MemberData rows.</summary>
    public static TheoryData<IsaPath> Data()
    {
        var data = new TheoryData<IsaPath>();
        foreach (IsaPath p in Isa.AllPaths) data.Add(p);
        return data;
    }

    /// <summary>True when the path runs in software here (the CPU lacks it).</summary>
    public static bool IsEmulated(IsaPath path) => !Isa.IsSupported(path);

#pragma warning disable CA2255 // a test assembly is the one place a module initializer is meant for here
    [ModuleInitializer]
    internal static void EnableEmulatedPaths() => Isa.AllowEmulatedPaths = true;
#pragma warning restore CA2255
}
