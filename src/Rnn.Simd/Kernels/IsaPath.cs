using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Rnn.Simd.Kernels;

/// <summary>
/// The instruction-set path a kernel runs on. <see cref="Auto"/> means the widest path this machine supports,
/// chosen once at start-up (<see cref="Isa.Best"/>); the others force a path, so that tests can run every path on
/// any machine that supports it.
/// </summary>
public enum IsaPath
{
    /// <summary>The widest supported path (<see cref="Isa.Best"/>).</summary>
    Auto = 0,
    /// <summary>Plain scalar code; supported everywhere.</summary>
    Scalar = 1,
    /// <summary>128-bit vectors (SSE on x86 with FMA when present, AdvSimd on Arm).</summary>
    Vector128 = 2,
    /// <summary>256-bit vectors; requires AVX2 and FMA.</summary>
    Vector256 = 3,
    /// <summary>512-bit vectors; requires AVX-512 (F, BW, DQ, VL as exposed by <see cref="Vector512.IsHardwareAccelerated"/>).</summary>
    Vector512 = 4,
}

/// <summary>Instruction-set detection. The best path is computed once into a static readonly field.</summary>
public static class Isa
{
    /// <summary>The widest path this process runs on when <see cref="IsaPath.Auto"/> is requested.</summary>
    /// <remarks>
    /// Set the environment variable <c>RNN_SIMD_ISA</c> to <c>scalar</c>, <c>vector128</c>, <c>vector256</c> or
    /// <c>vector512</c> to cap it (for example to reproduce a run from a narrower machine); a path the machine does
    /// not support is ignored.
    /// </remarks>
    public static readonly IsaPath Best = DetectBest();

    /// <summary>True when the given path can run on this machine. <see cref="IsaPath.Auto"/> is always supported.</summary>
    public static bool IsSupported(IsaPath path) => IsHardwarePath(path);

    /// <summary>
    /// Test-only switch: when true, <see cref="Resolve(IsaPath)"/> accepts every concrete path, also one the CPU lacks. The .NET
    /// vector types then compute that width in software (slowly, but exactly: a software FMA is fused too), so the
    /// suite runs the Vector256 and Vector512 kernels on a machine without AVX2 or AVX-512. <see cref="Best"/> and
    /// <see cref="IsSupported"/> are unaffected. Never set it in production code.
    /// </summary>
    internal static bool AllowEmulatedPaths;

    /// <summary>Every concrete path, narrowest first (with <see cref="AllowEmulatedPaths"/>, all of them run).</summary>
    internal static IReadOnlyList<IsaPath> AllPaths { get; } = [IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512];

    private static bool IsHardwarePath(IsaPath path) => path switch
    {
        IsaPath.Auto or IsaPath.Scalar => true,
        IsaPath.Vector128 => Vector128.IsHardwareAccelerated,
        IsaPath.Vector256 => Vector256.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        IsaPath.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        _ => false,
    };

    /// <summary>All concrete paths (not <see cref="IsaPath.Auto"/>) this machine supports, narrowest first.</summary>
    public static IReadOnlyList<IsaPath> SupportedPaths { get; } = BuildSupported();

    /// <summary>Width in bytes of one vector register on the given path: 64, 32 or 16; 0 for the scalar path, which has none.</summary>
    public static int VectorBytes(IsaPath path) => Resolve(path) switch
    {
        IsaPath.Vector128 => 16,
        IsaPath.Vector256 => 32,
        IsaPath.Vector512 => 64,
        _ => 0,
    };

    /// <summary>A short human-readable name of the path with the instruction sets behind it, e.g. "Vector512 (AVX-512F + FMA)".</summary>
    public static string Describe(IsaPath path) => Resolve(path) switch
    {
        IsaPath.Vector512 => "Vector512 (AVX-512F + FMA)",
        IsaPath.Vector256 => "Vector256 (AVX2 + FMA)",
        IsaPath.Vector128 => AdvSimd.IsSupported ? "Vector128 (AdvSimd)" : Fma.IsSupported ? "Vector128 (SSE + FMA)" : "Vector128 (SSE)",
        _ => "Scalar",
    };

    /// <summary>
    /// Maps <see cref="IsaPath.Auto"/> to <see cref="Best"/> and checks that a forced path is supported.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">The path cannot run on this machine.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="IsaPath"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IsaPath Resolve(IsaPath path) => Resolve(path, AllowEmulatedPaths);

    /// <summary>As <see cref="Resolve(IsaPath)"/>, accepting a path the CPU lacks only when <paramref name="allowEmulated"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static IsaPath Resolve(IsaPath path, bool allowEmulated)
    {
        if (path == IsaPath.Auto) return Best;
        if ((uint)path - 1 > 3) ThrowHelper.ThrowArgumentOutOfRange(nameof(path), "Unknown IsaPath value.");
        if (path != IsaPath.Scalar && !allowEmulated && !IsSupported(path)) ThrowPathNotSupported(path);
        return path;
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowPathNotSupported(IsaPath path) =>
        throw new PlatformNotSupportedException($"The ISA path {path} is not supported on this machine (best is {Best}).");

    private static IsaPath DetectBest()
    {
        IsaPath best = IsSupported(IsaPath.Vector512) ? IsaPath.Vector512
            : IsSupported(IsaPath.Vector256) ? IsaPath.Vector256
            : IsSupported(IsaPath.Vector128) ? IsaPath.Vector128
            : IsaPath.Scalar;
        string? cap = Environment.GetEnvironmentVariable("RNN_SIMD_ISA");
        if (!string.IsNullOrWhiteSpace(cap) && Enum.TryParse(cap.Trim(), ignoreCase: true, out IsaPath capped)
            && capped != IsaPath.Auto && IsSupported(capped) && capped < best)
        {
            best = capped;
        }
        return best;
    }

    private static IsaPath[] BuildSupported()
    {
        var list = new List<IsaPath>(4);
        foreach (IsaPath p in new[] { IsaPath.Scalar, IsaPath.Vector128, IsaPath.Vector256, IsaPath.Vector512 })
        {
            if (IsSupported(p)) list.Add(p);
        }
        return list.ToArray();
    }
}
