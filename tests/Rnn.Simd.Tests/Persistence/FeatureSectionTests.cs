using System.Buffers.Binary;
using System.Security.Cryptography;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using static Rnn.Simd.Tests.Persistence.PersistenceTestKit;

namespace Rnn.Simd.Tests.Persistence;

/// <summary>Section 5 (`features`) of the model file: the input features a forecasting model was trained with.</summary>
public sealed class FeatureSectionTests
{
    // value + lag48 + lag168 + day on a 1-column series: I = 1 + 1 + 1 + 2 = 5.
    private static readonly FeatureSpec Spec = FeatureSpec.Parse("value,lag48,lag168,day");

    private static (RecurrentNetwork<float> Net, ForecastingInfo Info) Model()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 5, [4], 1), seed: 5);
        var info = new ForecastingInfo
        {
            Scaler = new StandardScaler([50.0], [10.0]),
            Options = new ForecastOptions(24, TargetMode.SingleStep, features: Spec),
            ColumnNames = ["load"],
        };
        return (net, info);
    }

    [Fact]
    public void Features_RoundTrip_WithTheModel()
    {
        (RecurrentNetwork<float> net, ForecastingInfo info) = Model();
        var ms = new MemoryStream();
        ModelFile.Save(ms, net, info);
        ms.Position = 0;
        LoadedModel loaded = ModelFile.Load(ms);
        ForecastingInfo back = Assert.IsType<ForecastingInfo>(loaded.Forecasting);
        Assert.Equal(Spec, back.Options.Features);
        Assert.Equal("value,lag48,lag168,day", back.Options.Features.ToString());
        Assert.Equal(5, back.Options.InputSize(1));
        AssertBitwiseEqual<float>(net.Parameters, loaded.GetNetwork<float>().Parameters, "parameters");
    }

    [Fact]
    public void ValueOnlyModels_WriteNoFeatureSection()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [4], 1), seed: 5);
        var info = new ForecastingInfo { Scaler = new StandardScaler([0.0], [1.0]), Options = new ForecastOptions(24), ColumnNames = ["load"] };
        byte[] bytes = ModelFile.ToBytes(net, info, null);
        Assert.DoesNotContain((ushort)5, SectionIds(bytes));
        Assert.Equal(FeatureSpec.ValueOnly, ModelFile.Load(new MemoryStream(bytes)).Forecasting!.Options.Features);

        (RecurrentNetwork<float> withNet, ForecastingInfo withInfo) = Model();
        Assert.Contains((ushort)5, SectionIds(ModelFile.ToBytes(withNet, withInfo, null)));
    }

    [Fact]
    public void Save_RefusesFeaturesThatDoNotMatchTheNetworkInputs()
    {
        var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [4], 1), seed: 5);
        var info = new ForecastingInfo
        {
            Scaler = new StandardScaler([0.0], [1.0]), Options = new ForecastOptions(24, features: Spec), ColumnNames = ["load"],
        };
        var e = Assert.Throws<ArgumentException>(() => ModelFile.Save(new MemoryStream(), net, info));
        Assert.Contains("5 inputs", e.Message);
    }

    [Fact]
    public void Load_RefusesABadFeatureSection_EvenWithAValidChecksum()
    {
        (RecurrentNetwork<float> net, ForecastingInfo info) = Model();
        byte[] good = ModelFile.ToBytes(net, info, null);
        (int payload, int length) = FindSection(good, 5);
        Assert.Equal(4 + 4 * 8, length);

        // Feature 1 (lag48) becomes kind 7: unknown.
        byte[] bad = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(payload + 4 + 8), 7);
        Assert.Contains("kind of feature 1", LoadError(Reseal(bad)));

        // lag48 becomes lag12, shorter than the horizon 24: it would read the future.
        bad = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(payload + 4 + 8 + 4), 12);
        Assert.Contains("lag", LoadError(Reseal(bad)));

        // value twice.
        bad = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(payload + 4 + 8), 0);
        BinaryPrimitives.WriteInt32LittleEndian(bad.AsSpan(payload + 4 + 8 + 4), 0);
        Assert.Contains("twice", LoadError(Reseal(bad)));
    }

    private static string LoadError(byte[] bytes) => Assert.Throws<InvalidDataException>(() => ModelFile.Load(new MemoryStream(bytes))).Message;

    // The container: 24-byte header, sections of (u16 id, u16 flags, u64 length, payload), 32-byte SHA-256 trailer
    // (README-format.md). Walk it independently of the reader.
    private static List<ushort> SectionIds(byte[] file)
    {
        var ids = new List<ushort>();
        for (int at = 24; at < file.Length - 32;)
        {
            ids.Add(BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at)));
            at += 12 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 4));
        }
        return ids;
    }

    private static (int Payload, int Length) FindSection(byte[] file, ushort id)
    {
        for (int at = 24; at < file.Length - 32;)
        {
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at + 4));
            if (BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(at)) == id) return (at + 12, length);
            at += 12 + length;
        }
        throw new InvalidOperationException($"no section {id}");
    }

    private static byte[] Reseal(byte[] file)
    {
        SHA256.HashData(file.AsSpan(0, file.Length - 32), file.AsSpan(file.Length - 32));
        return file;
    }
}
