namespace Rnn.Simd.Training.Bptt;

/// <summary>
/// The truncation of BPTT(τb, τf) (chapter section 2.1): every <see cref="ForwardSteps"/> (τf) steps, run τf new steps
/// forward, inject the error of those τf outputs, and back-propagate <see cref="BackwardSteps"/> (τb) steps.
/// </summary>
/// <param name="BackwardSteps">τb, the steps the gradient flows back (the ring buffer's length).</param>
/// <param name="ForwardSteps">τf, the new steps per window (and the steps whose error is injected).</param>
public readonly record struct BpttSchedule(int BackwardSteps, int ForwardSteps)
{
    /// <summary>True BPTT, BPTT(n, 1): an update after every step, the gradient n steps back.</summary>
    public static BpttSchedule True(int n) => Create(n, 1);

    /// <summary>Epochwise BPTT, BPTT(n, n): n new steps, n back; the cheapest and least accurate.</summary>
    public static BpttSchedule Epochwise(int n) => Create(n, n);

    /// <summary>BPTT(2n, n), the chapter's default: n new steps, 2n back, close to true BPTT at half its cost.</summary>
    public static BpttSchedule Default(int n) => Create(2 * n, n);

    /// <summary>Creates and validates a schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unless τb ≥ τf ≥ 1.</exception>
    public static BpttSchedule Create(int backwardSteps, int forwardSteps)
    {
        var s = new BpttSchedule(backwardSteps, forwardSteps);
        s.Validate();
        return s;
    }

    /// <summary>Throws unless τb ≥ τf ≥ 1.</summary>
    public void Validate()
    {
        if (ForwardSteps < 1) throw new ArgumentOutOfRangeException(nameof(ForwardSteps), ForwardSteps, "τf must be at least 1.");
        if (BackwardSteps < ForwardSteps) throw new ArgumentOutOfRangeException(nameof(BackwardSteps), BackwardSteps, $"τb must be at least τf = {ForwardSteps}.");
    }

    /// <summary>
    /// Parses "TB,TF" or the named forms "2n,n", "n,1", "n,n" with n given separately (e.g. Parse("2n,n", 25) is
    /// BPTT(50, 25)).
    /// </summary>
    /// <exception cref="FormatException">The text is not one of those forms.</exception>
    public static BpttSchedule Parse(string text, int n)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
        switch (t)
        {
            case "2n,n": return Default(n);
            case "n,1": return True(n);
            case "n,n": return Epochwise(n);
        }
        string[] parts = t.Split(',');
        if (parts.Length == 2 && int.TryParse(parts[0], out int tb) && int.TryParse(parts[1], out int tf)) return Create(tb, tf);
        throw new FormatException($"'{text}' is not a BPTT schedule: use 2n,n | n,1 | n,n | TB,TF.");
    }

    /// <inheritdoc/>
    public override string ToString() => $"BPTT({BackwardSteps},{ForwardSteps})";
}
