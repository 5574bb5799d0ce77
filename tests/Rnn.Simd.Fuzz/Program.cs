using System.IO.Compression;
using System.Text;
using Rnn.Simd.Cells;
using Rnn.Simd.Forecasting;
using Rnn.Simd.Fuzz;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;
using Rnn.Simd.Training.Optimizers;
using Rnn.Simd.Training.Regularization;
using Rnn.Simd.Training.Schedules;
using SharpFuzz;

// The fuzzing harness (README.md beside this file):
//   Rnn.Simd.Fuzz TARGET              under afl-fuzz: SharpFuzz's persistent fork server, one input per execution
//   Rnn.Simd.Fuzz seeds DIR           writes small valid files made by the library, DIR/TARGET/seed-*
//   Rnn.Simd.Fuzz replay TARGET PATH  runs files (or every file of directories) through TARGET, one line each;
//                                     exit code 1 when one of them is a finding (a stack trace is printed)
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine($"usage: Rnn.Simd.Fuzz TARGET | seeds DIR | replay TARGET PATH...   (targets: {string.Join(", ", FuzzTargets.Names)})");
    return 2;
}
switch (args[0])
{
    case "seeds" when args.Length == 2:
        Seeds.Write(args[1]);
        return 0;
    case "replay" when args.Length >= 3:
        return Replay(args[1], args[2..]);
    default:
        string target = args[0];
        if (!FuzzTargets.Names.Contains(target))
        {
            Console.Error.WriteLine($"unknown target '{target}'; the targets are {string.Join(", ", FuzzTargets.Names)}.");
            return 2;
        }
        // Persistent mode: one process runs many inputs. An exception that escapes is a crash for afl-fuzz.
        Fuzzer.Run(stream =>
        {
            var input = new MemoryStream();
            stream.CopyTo(input);
            FuzzTargets.Run(target, input.ToArray());
        });
        return 0;
}

static int Replay(string target, string[] paths)
{
    var files = new List<string>();
    foreach (string p in paths)
    {
        if (Directory.Exists(p)) files.AddRange(Directory.GetFiles(p).Order(StringComparer.Ordinal));
        else files.Add(p);
    }
    int findings = 0;
    foreach (string file in files)
    {
        try
        {
            string result = FuzzTargets.Run(target, File.ReadAllBytes(file));
            Console.WriteLine($"{Path.GetFileName(file)}: {OneLine(result)}");
        }
        catch (Exception e) when (e is not ArgumentException { ParamName: "name" })
        {
            findings++;
            Console.WriteLine($"{Path.GetFileName(file)}: FINDING {e}");
        }
    }
    Console.WriteLine($"{files.Count} file(s), {findings} finding(s)");
    return findings == 0 ? 0 : 1;

    static string OneLine(string s) => s.Length > 300 ? s[..300].ReplaceLineEndings(" ") + "..." : s.ReplaceLineEndings(" ");
}

/// <summary>Seed inputs: small valid files written by the library itself, a few per target.</summary>
internal static class Seeds
{
    public static void Write(string root)
    {
        Emit(root, "model", "elman-float", ModelFileBytes(new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), seed: 1), null, null));
        Emit(root, "model", "lstm2-double-metadata", ModelFileBytes(new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 2, [2, 1], 1), seed: 2), null,
            new Dictionary<string, string> { ["tool"] = "rnn-simd", ["data"] = "seed" }));
        var lagged = new ForecastOptions(2, features: FeatureSpec.Parse("value,lag3,day"));
        Emit(root, "model", "gru-features", ModelFileBytes(
            new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, lagged.InputSize(1), [2], lagged.OutputSize(1)), seed: 3),
            new ForecastingInfo { Scaler = new StandardScaler([10.0], [2.0]), Options = lagged, ColumnNames = ["load"] }, null));
        var twoColumns = new ForecastOptions(1, TargetMode.SingleStep, [0, 1], [1]);
        var ensemble = new ulong[] { 4, 5 }.Select(s => new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 2, [1], 1, Activation.Relu), seed: s)).ToArray();
        using (var m = new MemoryStream())
        {
            ModelFile.Save(m, ensemble, new ForecastingInfo { Scaler = new StandardScaler([0.0, 1.0], [1.0, 0.5]), Options = twoColumns, ColumnNames = ["a", "b"] });
            Emit(root, "model", "ensemble2-forecasting", m.ToArray());
        }

        Emit(root, "safetensors", "elman-f32", SafeTensorsModel.ToFile<float>(
            [new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Elman, 1, [2], 1), seed: 1)]).ToArray());
        Emit(root, "safetensors", "lstm2-f64-forecasting", SafeTensorsModel.ToFile<double>(
            [new RecurrentNetwork<double>(new NetworkArchitecture(CellType.Lstm, 4, [2, 1], 1), seed: 2)],
            new ForecastingInfo { Scaler = new StandardScaler([10.0], [2.0]), Options = lagged, ColumnNames = ["load"] }).ToArray());
        Emit(root, "safetensors", "gru-f16-prefix", SafeTensorsModel.ToFile<float>(
            [new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Gru, 2, [2], 1), seed: 3)], null, null,
            new SafeTensorsExportOptions { DType = SafeTensorsDType.F16, RecurrentPrefix = "", ReadoutPrefix = "head." }).ToArray());
        Emit(root, "safetensors", "ensemble2-bf16", SafeTensorsModel.ToFile<float>(ensemble,
            new ForecastingInfo { Scaler = new StandardScaler([0.0, 1.0], [1.0, 0.5]), Options = twoColumns, ColumnNames = ["a", "b"] }, null,
            new SafeTensorsExportOptions { DType = SafeTensorsDType.BF16 }).ToArray());

        Emit(root, "checkpoint", "adam-float", CheckpointBytes<float>(OptimizerKind.Adam, schedule: false, dropout: false));
        Emit(root, "checkpoint", "momentum-plateau-dropout-float", CheckpointBytes<float>(OptimizerKind.Momentum, schedule: true, dropout: true));
        Emit(root, "checkpoint", "sgd-double", CheckpointBytes<double>(OptimizerKind.Sgd, schedule: false, dropout: false));

        // csv: byte 0 = options (bit 0 no header, bit 1 interpolate gaps), then the file.
        Emit(root, "csv", "header", Csv(0, "load\n1.5\n2\n-3e2\n\"4\"\n"));
        Emit(root, "csv", "no-header", Csv(1, "0.25\r\n1\r\n2\r\n"));
        Emit(root, "csv", "gaps", Csv(2, "x\n1\n\nNaN\n4\nNA\n6\n\n"));
        Emit(root, "csv", "gzip", [0, .. Gzip("v\n1\n2\n3\n")]);

        // csv-tool: byte 0 = options (bits 0-1 column, 2-3 header, 4-5 separator, bit 6 fill gaps), then the file.
        Emit(root, "csv-tool", "two-columns", Csv(0, "time,load\n2024-01-01 00:00,1.5\n2024-01-01 01:00,2\n"));
        Emit(root, "csv-tool", "named-semicolon-gaps", Csv(3 | (2 << 4) | 64, "value;other\n1;a\n;b\n3;c\n"));
        Emit(root, "csv-tool", "index-no-header-tab", Csv(2 | (2 << 2) | (3 << 4), "1\t2\n3\t4\n"));
        Emit(root, "csv-tool", "quoted-gzip", [0, .. Gzip("\"a\",\"b\"\n\"x,y\",\"5\"\n\"z\",6\n")]);
    }

    private static void Emit(string root, string target, string name, byte[] bytes)
    {
        string dir = Path.Combine(root, target);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "seed-" + name), bytes);
        Console.WriteLine($"{target}/seed-{name}: {bytes.Length} bytes, {FuzzTargets.Run(target, bytes)}");
    }

    private static byte[] ModelFileBytes<T>(RecurrentNetwork<T> net, ForecastingInfo? info, Dictionary<string, string>? metadata)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        using var m = new MemoryStream();
        ModelFile.Save(m, net, info, metadata);
        return m.ToArray();
    }

    /// <summary>The checkpoint after epoch 2 of a tiny real training run (LSTM 1 → 2 → 1 on a sine).</summary>
    private static byte[] CheckpointBytes<T>(OptimizerKind optimizer, bool schedule, bool dropout)
        where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
    {
        TrainerState? last = null;
        var options = new TrainerOptions
        {
            BatchSize = 2, Bptt = BpttSchedule.Create(6, 3), Optimizer = optimizer, LearningRate = 0.01, Epochs = 2, Patience = 0,
            Schedule = schedule ? new StepDecayOnPlateau(0.01, factor: 0.5, patience: 1) : null,
            Dropout = dropout ? new DropoutOptions(Input: 0.1, Recurrent: 0.1, Output: 0.1, Seed: 7) : DropoutOptions.None,
            Regularization = RegularizationOptions.Ridge(1e-4),
            CheckpointCallback = s => last = s,
        };
        var net = new RecurrentNetwork<T>(new NetworkArchitecture(CellType.Lstm, 1, [2], 1), seed: 9);
        const int steps = 24;
        var x = new T[steps];
        var y = new T[steps];
        for (int k = 0; k < steps; k++)
        {
            x[k] = T.CreateTruncating(Math.Sin(k * 0.5));
            y[k] = T.CreateTruncating(Math.Sin((k + 1) * 0.5));
        }
        new Trainer<T>(net, options).Fit(new SequenceData<T>(x, y, 1, 1));
        using var m = new MemoryStream();
        new TrainingCheckpoint(last ?? throw new InvalidOperationException("no checkpoint was taken")).Save(m);
        return m.ToArray();
    }

    private static byte[] Csv(byte flags, string text) => [flags, .. Encoding.UTF8.GetBytes(text)];

    private static byte[] Gzip(string text)
    {
        using var m = new MemoryStream();
        using (var g = new GZipStream(m, CompressionLevel.SmallestSize, leaveOpen: true)) g.Write(Encoding.UTF8.GetBytes(text));
        return m.ToArray();
    }
}
