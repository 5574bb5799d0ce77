using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Persistence;
using Rnn.Simd.Training;
using Rnn.Simd.Training.Bptt;

// The child of tests/Rnn.Simd.Tests/Persistence/KillDuringSaveTests:
//   Rnn.Simd.SaveLoop versions model|checkpoint A B   writes two different valid files A and B (plain writes) and exits
//   Rnn.Simd.SaveLoop loop model|checkpoint PATH A B  loads A and B, then saves them to PATH alternately through the
//                                                     library's atomic save, forever; prints "ready" after the first
//                                                     save has completed. The test kills it with SIGKILL.
if (args.Length == 4 && args[0] == "versions")
{
    bool model = Kind(args[1]);
    for (int v = 0; v < 2; v++)
    {
        using var file = File.Create(args[2 + v]);
        if (model) ModelFile.Save(file, new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 4, [128], 2), seed: (ulong)(v + 1)));
        else new TrainingCheckpoint(TrainedState(epochs: v + 1)).Save(file);
    }
    return 0;
}
if (args.Length == 5 && args[0] == "loop")
{
    bool model = Kind(args[1]);
    string path = args[2];
    Action[] saves = new Action[2];
    for (int v = 0; v < 2; v++)
    {
        if (model)
        {
            RecurrentNetwork<float> net = ModelFile.Load(args[3 + v]).GetNetwork<float>();
            saves[v] = () => ModelFile.Save(path, net);
        }
        else
        {
            TrainingCheckpoint checkpoint = TrainingCheckpoint.Load(args[3 + v]);
            saves[v] = () => checkpoint.Save(path);
        }
    }
    saves[0]();
    Console.Out.WriteLine("ready");
    Console.Out.Flush();
    for (long i = 1; ; i++) saves[i % 2]();
}
Console.Error.WriteLine("usage: Rnn.Simd.SaveLoop versions model|checkpoint A B | loop model|checkpoint PATH A B");
return 2;

static bool Kind(string kind) => kind switch
{
    "model" => true,
    "checkpoint" => false,
    _ => throw new ArgumentException($"unknown kind '{kind}' (model or checkpoint)"),
};

// The state after 1 or 2 epochs of Adam on a sine: LSTM 1 -> 64 -> 1, about 17 k parameters, ~280 kB of checkpoint
// (parameters, best parameters and Adam's two moments).
static TrainerState TrainedState(int epochs)
{
    TrainerState? last = null;
    var options = new TrainerOptions
    {
        BatchSize = 2, Bptt = BpttSchedule.Create(6, 3), LearningRate = 0.01, Epochs = epochs, Patience = 0,
        CheckpointCallback = s => last = s,
    };
    var net = new RecurrentNetwork<float>(new NetworkArchitecture(CellType.Lstm, 1, [64], 1), seed: 3);
    const int steps = 24;
    var x = new float[steps];
    var y = new float[steps];
    for (int k = 0; k < steps; k++)
    {
        x[k] = MathF.Sin(k * 0.5f);
        y[k] = MathF.Sin((k + 1) * 0.5f);
    }
    new Trainer<float>(net, options).Fit(new SequenceData<float>(x, y, 1, 1));
    return last ?? throw new InvalidOperationException("no state was captured");
}
