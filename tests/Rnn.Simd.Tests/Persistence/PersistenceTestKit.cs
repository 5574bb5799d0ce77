using System.Numerics;
using System.Runtime.InteropServices;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>Shared helpers of the persistence tests.</summary>
internal static class PersistenceTestKit
{
    /// <summary>A fresh empty directory under the temp folder (deleted by the caller's <c>using</c>).</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnn-simd-persist-" + Guid.NewGuid().ToString("N"));

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Exact equality of the bits of every element, naming the first difference.</summary>
    public static void AssertBitwiseEqual<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : unmanaged
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        ReadOnlySpan<byte> e = MemoryMarshal.AsBytes(expected), a = MemoryMarshal.AsBytes(actual);
        if (e.SequenceEqual(a)) return;
        int size = e.Length / expected.Length, at = 0;
        while (e.Slice(at * size, size).SequenceEqual(a.Slice(at * size, size))) at++;
        Assert.Fail($"{what}: first difference at [{at}]: actual {actual[at]}, expected {expected[at]}");
    }

    /// <summary>The outputs of a network over <paramref name="steps"/> steps of seeded random inputs for 2 streams.</summary>
    public static T[] Predict<T>(RecurrentNetwork<T> net, int steps, ulong seed) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        const int b = 2;
        var rng = new Rng(seed);
        int i = net.Architecture.InputSize, o = net.Architecture.OutputSize;
        var inputs = new T[steps * b * i];
        for (int k = 0; k < inputs.Length; k++) inputs[k] = T.CreateTruncating(rng.NextUniform(-1, 1));
        var outputs = new T[steps * b * o];
        net.Forward(inputs, outputs, net.CreateState(b));
        return outputs;
    }

    /// <summary>Forecasting information for a 2-column series predicting column 1 at horizon 3 from both columns.</summary>
    public static ForecastingInfo TwoColumnInfo() => new()
    {
        Scaler = new StandardScaler([1.5, -2.25], [0.5, 3.0]),
        Options = new ForecastOptions(3, TargetMode.SingleStep, [0, 1], [1]),
        ColumnNames = ["load (MW)", "température"],
    };

    /// <summary>A small fixed model file: Elman(tanh) I = 2, H = [3], O = 1, float, seed 42, with forecasting info and metadata.</summary>
    public static byte[] SmallModelBytes(out RecurrentNetwork<float> net)
    {
        net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [3], 1), seed: 42);
        return ModelFile.ToBytes(net, TwoColumnInfo(), new Dictionary<string, string> { ["tool"] = "rnn-simd 0.1.0", ["data"] = "unit-test" });
    }

    /// <summary>x_t = sin(2π t / 25) and cos, targets the next sine value: 2 inputs, 1 output.</summary>
    public static SequenceData<T> Sine<T>(int start, int steps) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var x = new T[steps * 2];
        var y = new T[steps];
        for (int k = 0; k < steps; k++)
        {
            double phase = 2 * Math.PI * (start + k) / 25, next = 2 * Math.PI * (start + k + 1) / 25;
            x[2 * k] = T.CreateTruncating(Math.Sin(phase));
            x[2 * k + 1] = T.CreateTruncating(Math.Cos(phase));
            y[k] = T.CreateTruncating(Math.Sin(next) + 0.1 * Math.Sin(3 * next));
        }
        return new SequenceData<T>(x, y, 2, 1);
    }
}
