using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training.Bptt;
using static Rnn.Simd.Tests.Infrastructure.RecurrentTestKit;

namespace Rnn.Simd.Tests.Properties;

/// <summary>
/// One random case of the recurrent properties, decoded from FsCheck-generated integers: a network shape (input,
/// hidden and output sizes 1..17, on purpose off every vector width; one layer, or two of different hidden sizes), a
/// batch of 1..3 streams, a BPTT schedule of one of four kinds and a series of at most 40 steps (a multiple of τf),
/// plus data seeds. <see cref="ToString"/> is the repro printed with a failure.
/// </summary>
public sealed record RecurrentCase(NetworkArchitecture Arch, int Batch, BpttSchedule Schedule, int Steps, ulong Seed)
{
    public const int MaxSize = 17, MaxBatch = 3, MaxSteps = 40;

    /// <summary>Maps any int onto 0 .. count-1 (no Math.Abs, which overflows on int.MinValue).</summary>
    public static int Pick(int raw, int count) => (int)((uint)raw % (uint)count);

    /// <summary>
    /// Decodes a case. mode: 0 BPTT(n,1) with n in 1..12; 1 BPTT(n,n) and 2 BPTT(2n,n) with n in 1..10; 3 a general
    /// BPTT(τb, τf) with τf in 1..8 and τb in τf+1 .. τf+10 (rarely a multiple of τf, so windows straddle the ring's
    /// wrap). The number of windows is 1 .. ⌊40/τf⌋ (1..40 steps for BPTT(n,1)), so most series are longer than τb
    /// and the truncation cuts. <paramref name="maxSteps"/> raises the 40-step cap for the cheap properties.
    /// </summary>
    public static RecurrentCase Decode(CellType cell, bool stacked, int inputRaw, int h1Raw, int h2Raw, int outputRaw,
        int batchRaw, int modeRaw, int nRaw, int windowsRaw, int seed, Activation activation = Activation.Tanh, int maxSteps = MaxSteps, int depth = 1)
    {
        int input = 1 + Pick(inputRaw, MaxSize), h1 = 1 + Pick(h1Raw, MaxSize), output = 1 + Pick(outputRaw, MaxSize);
        int h2 = 1 + Pick(h2Raw, MaxSize);
        if (h2 == h1) h2 = h1 % MaxSize + 1; // two layers always differ in size
        var hidden = stacked ? new[] { h1, h2 } : new[] { h1 };
        int batch = 1 + Pick(batchRaw, MaxBatch);
        BpttSchedule schedule;
        switch (Pick(modeRaw, 4))
        {
            case 0: schedule = BpttSchedule.True(1 + Pick(nRaw, 12)); break;
            case 1: schedule = BpttSchedule.Epochwise(1 + Pick(nRaw, 10)); break;
            case 2: schedule = BpttSchedule.Default(1 + Pick(nRaw, 10)); break;
            default:
            {
                int tf = 1 + Pick(nRaw, 8);
                schedule = BpttSchedule.Create(tf + 1 + Pick(nRaw / 8, 10), tf);
                break;
            }
        }
        int windows = 1 + Pick(windowsRaw, maxSteps / schedule.ForwardSteps);
        return new RecurrentCase(new NetworkArchitecture(cell, input, hidden, output, activation, depth), batch, schedule,
            windows * schedule.ForwardSteps, (uint)seed);
    }

    public double[] Inputs() => Uniform(Seed * 4 + 1, Steps * Batch * Arch.InputSize);

    public double[] Targets() => Uniform(Seed * 4 + 2, Steps * Batch * Arch.OutputSize);

    public RecurrentNetwork<double> Network(Rnn.Simd.Kernels.IsaPath path = Rnn.Simd.Kernels.IsaPath.Auto) => new(Arch, Seed * 4 + 3, path);

    /// <summary>A random initial state (h, and c for LSTM) within ±0.5, so dJ/d(h0, c0) is exercised from a non-zero start.</summary>
    public NetworkState<double> InitialState(RecurrentNetwork<double> net)
    {
        NetworkState<double> s = net.CreateState(Batch);
        for (int l = 0; l < Arch.NumLayers; l++)
        {
            Uniform(Seed * 4 + 100 + (ulong)l, s.Hidden(l).Length, -0.5, 0.5).CopyTo(s.Hidden(l));
            Uniform(Seed * 4 + 200 + (ulong)l, s.Cell(l).Length, -0.5, 0.5).CopyTo(s.Cell(l));
        }
        return s;
    }

    public override string ToString() => $"{Arch} B={Batch} {Schedule} S={Steps} seed={Seed}";
}
