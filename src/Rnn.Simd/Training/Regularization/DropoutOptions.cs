namespace Rnn.Simd.Training.Regularization;

/// <summary>Which dropout scheme training uses (chapter section 2.2, item 4).</summary>
public enum DropoutVariant
{
    /// <summary>
    /// Variational dropout (Gal and Ghahramani): one mask per stream and sequence, reused at every time step, on the
    /// layer inputs, on the recurrent state entering W_hh, and on the readout input. New masks at every reset (every
    /// epoch of the trainer).
    /// </summary>
    Variational = 0,
    /// <summary>The naive scheme, for comparison: only non-recurrent connections (layer inputs, readout input) are
    /// dropped, with a fresh mask at every step; <see cref="DropoutOptions.Recurrent"/> must be 0.</summary>
    Naive = 1,
}

/// <summary>
/// Dropout probabilities for training. Inverted scaling: kept units are multiplied by 1/(1 - p) during training, so
/// inference uses the network unchanged. All zero (the default) disables dropout at no cost.
/// </summary>
/// <param name="Input">p of dropping a unit of a layer's input (x for the bottom layer, the hidden state below otherwise).</param>
/// <param name="Recurrent">p of dropping a unit of h_(t-1) where it enters W_hh (variational only).</param>
/// <param name="Output">p of dropping a unit of the top hidden state where it enters the readout.</param>
/// <param name="Variant">Variational (default) or naive.</param>
/// <param name="Seed">Seed of the masks; the same seed gives the same masks.</param>
public sealed record DropoutOptions(double Input = 0, double Recurrent = 0, double Output = 0, DropoutVariant Variant = DropoutVariant.Variational, ulong Seed = 0)
{
    /// <summary>No dropout.</summary>
    public static DropoutOptions None { get; } = new();

    /// <summary>True when any probability is positive.</summary>
    public bool IsActive => Input > 0 || Recurrent > 0 || Output > 0;

    /// <summary>Throws unless every probability is in [0, 1) and the naive variant has no recurrent dropout.</summary>
    public void Validate()
    {
        Check(Input, nameof(Input));
        Check(Recurrent, nameof(Recurrent));
        Check(Output, nameof(Output));
        if (!Enum.IsDefined(Variant)) throw new ArgumentOutOfRangeException(nameof(Variant), Variant, "Unknown dropout variant.");
        if (Variant == DropoutVariant.Naive && Recurrent > 0)
            throw new ArgumentException("Naive dropout drops only non-recurrent connections: Recurrent must be 0 (use the variational variant).", nameof(Recurrent));
    }

    private static void Check(double p, string name)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(name, p, $"Dropout probability {name} must be in [0, 1).");
    }
}
