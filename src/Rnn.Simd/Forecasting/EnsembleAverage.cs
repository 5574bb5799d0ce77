namespace Rnn.Simd.Forecasting;

/// <summary>
/// The prediction of a seed ensemble: the element-wise arithmetic mean of its M members' outputs, taken in scaled
/// units (before inverse scaling, which is affine, so the order does not change the mean but does change rounding).
/// </summary>
/// <remarks>
/// One arithmetic for every caller (<see cref="Forecaster"/>, the model file's readers, the tool's test evaluation),
/// so that they agree bitwise: per element, the M values are summed in member order in double and the sum divided by
/// M, then rounded to float once. For M = 1 the result is the member's output bit for bit. Averaging the outputs of
/// networks trained from different seeds reduces the variance part of the error (each seed lands in a different
/// local minimum); it does not reduce a bias they share.
/// </remarks>
public static class EnsembleAverage
{
    /// <summary>
    /// destination[i] = mean over k of stacked[k · n + i], for n = stacked.Length / <paramref name="memberCount"/>:
    /// the members' outputs stored member-major (member 0's n values, then member 1's, ...). Overwrites the first n
    /// values of <paramref name="destination"/>; it may be the first member's block (in place). Allocates nothing.
    /// </summary>
    /// <param name="stacked">M × n values, member-major.</param>
    /// <param name="memberCount">M ≥ 1.</param>
    /// <param name="destination">At least n values.</param>
    /// <exception cref="ArgumentException">M &lt; 1, a length that is not M whole blocks, or a destination shorter than n.</exception>
    public static void Mean(ReadOnlySpan<float> stacked, int memberCount, Span<float> destination)
    {
        if (memberCount < 1) throw new ArgumentOutOfRangeException(nameof(memberCount), memberCount, "An ensemble has at least one member.");
        if (stacked.Length % memberCount != 0)
            throw new ArgumentException($"{stacked.Length} values are not {memberCount} equal blocks (one per member).", nameof(stacked));
        int n = stacked.Length / memberCount;
        if (destination.Length < n) ThrowHelper.ThrowDestinationTooShort(nameof(destination), n, destination.Length);
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int k = 0; k < memberCount; k++) sum += stacked[k * n + i];
            destination[i] = (float)(sum / memberCount);
        }
    }

    /// <summary>
    /// destination[i] = mean over k of members[k][i]: the members' predictions over the same rows (for example T × O
    /// test outputs, scaled), each array of the same length n. Overwrites the first n values of
    /// <paramref name="destination"/>, which may be one of the arrays (in place). Allocates nothing.
    /// </summary>
    /// <param name="members">M ≥ 1 arrays of n values each, member 0 first.</param>
    /// <param name="destination">At least n values.</param>
    /// <exception cref="ArgumentException">No member, a null member, members of different lengths (naming member k), or a destination shorter than n.</exception>
    public static void Mean(IReadOnlyList<float[]> members, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(members);
        int m = members.Count;
        if (m == 0) throw new ArgumentException("The ensemble has no members.", nameof(members));
        float[] first = members[0] ?? throw new ArgumentException("Member 0's predictions are null.", nameof(members));
        int n = first.Length;
        for (int k = 1; k < m; k++)
        {
            float[]? p = members[k];
            if (p is null) throw new ArgumentException($"Member {k}'s predictions are null.", nameof(members));
            if (p.Length != n) throw new ArgumentException($"Member {k} has {p.Length} predictions, member 0 has {n}.", nameof(members));
        }
        if (destination.Length < n) ThrowHelper.ThrowDestinationTooShort(nameof(destination), n, destination.Length);
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int k = 0; k < m; k++) sum += members[k][i];
            destination[i] = (float)(sum / m);
        }
    }
}
