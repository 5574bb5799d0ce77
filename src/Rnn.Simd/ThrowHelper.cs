using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Rnn.Simd;

/// <summary>Throws from non-inlined helpers so that hot paths stay small.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgumentOutOfRange(string paramName, string message) => throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowDestinationTooShort(string paramName, int required, int actual) =>
        throw new ArgumentException($"Destination is too short: {required} elements needed, {actual} given.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowLengthMismatch(string paramName, int expected, int actual) =>
        throw new ArgumentException($"Length mismatch: expected {expected} elements, got {actual}.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowOverlap(string paramName) =>
        throw new ArgumentException("The destination partially overlaps an input; it may only be the same span as an input or not overlap at all.", paramName);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowTypeNotSupported<T>() =>
        throw new NotSupportedException($"Element type {typeof(T).Name} is not supported; use float or double.");
}
