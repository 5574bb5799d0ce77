// Writes the golden files of tests/Rnn.Simd.Tests/Golden/ with libtorch (TorchSharp-cpu 0.107.0, libtorch 2.10):
// for each case, <case>.safetensors holds the state dict of a PyTorch model { rnn: nn.RNN/LSTM/GRU, readout:
// nn.Linear } written by TorchSharp.PyBridge's module.save_safetensors, and <case>.io.safetensors holds an input
// sequence and PyTorch's outputs for it (PyBridge's Safetensors.SaveStateDict). See README.md.
using GoldenGenerator;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

NativeFix.PatchTorchSharpNative(Console.Error);
string outDir = args.Length > 0 ? args[0] : Path.Combine("..", "Rnn.Simd.Tests", "Golden");
Directory.CreateDirectory(outDir);
torch.set_num_threads(1);

// name, cell, layers, dtype. I = 3, H = 5, O = 2, T = 6 steps, B = 2 sequences.
var cases = new (string Name, string Cell, int Layers, string DType)[]
{
    ("rnn_tanh_l1", "RNN_TANH", 1, "F32"),
    ("rnn_tanh_l2", "RNN_TANH", 2, "F32"),
    ("rnn_relu_l1", "RNN_RELU", 1, "F32"),
    ("lstm_l1", "LSTM", 1, "F32"),
    ("lstm_l2", "LSTM", 2, "F32"),
    ("gru_l1", "GRU", 1, "F32"),
    ("gru_l2", "GRU", 2, "F32"),
    ("lstm_l2_f64", "LSTM", 2, "F64"),
    ("gru_l1_f16", "GRU", 1, "F16"),
    ("lstm_l1_bf16", "LSTM", 1, "BF16"),
};
const int I = 3, H = 5, O = 2, T = 6, B = 2;
ulong seed = 20261;
foreach (var c in cases)
{
    torch.manual_seed((long)seed++);
    using var scope = torch.NewDisposeScope();
    var model = new GoldenModel(c.Cell, I, H, c.Layers, O);
    using (torch.no_grad())
    {
        // Larger than PyTorch's default U(-1/sqrt(H), 1/sqrt(H)) so that the nonlinearities are well exercised.
        foreach (var p in model.parameters()) p.mul_(2.0);
        if (c.DType is "F16" or "BF16")
        {
            // The file holds 16-bit weights (rounded by libtorch); the outputs are those of the rounded weights in float32.
            var half = c.DType == "F16" ? ScalarType.Float16 : ScalarType.BFloat16;
            foreach (var p in model.parameters()) p.copy_(p.to(half).to(ScalarType.Float32));
        }
    }
    var x = torch.randn(T, B, I);
    if (c.DType == "F64")
    {
        model.to(ScalarType.Float64);
        x = x.to(ScalarType.Float64);
    }
    Tensor y;
    using (torch.no_grad()) y = model.call(x);
    if (c.DType is "F16") model.to(ScalarType.Float16);
    if (c.DType is "BF16") model.to(ScalarType.BFloat16);

    string weights = Path.Combine(outDir, c.Name + ".safetensors");
    string io = Path.Combine(outDir, c.Name + ".io.safetensors");
    File.Delete(weights);
    File.Delete(io);
    model.save_safetensors(weights);
    Safetensors.SaveStateDict(io, new Dictionary<string, Tensor> { ["input"] = x.contiguous(), ["output"] = y.contiguous() });
    Console.WriteLine($"{c.Name}: {c.Cell} layers {c.Layers} {c.DType}: {new FileInfo(weights).Length} + {new FileInfo(io).Length} bytes; " +
                      $"keys {string.Join(",", model.state_dict().Keys)}");
}
Console.WriteLine($"libtorch {torch.__version__}; wrote {cases.Length} cases to {Path.GetFullPath(outDir)}");

/// <summary>{ rnn, readout } as a PyTorch user would write it: readout applied to every step's top hidden state.</summary>
sealed class GoldenModel : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module rnn;
    private readonly TorchSharp.Modules.Linear readout;
    private readonly string cell;

    public GoldenModel(string cell, int input, int hidden, int layers, int output) : base("GoldenModel")
    {
        this.cell = cell;
        rnn = cell switch
        {
            "LSTM" => nn.LSTM(input, hidden, numLayers: layers),
            "GRU" => nn.GRU(input, hidden, numLayers: layers),
            "RNN_RELU" => nn.RNN(input, hidden, numLayers: layers, nonLinearity: nn.NonLinearities.ReLU),
            _ => nn.RNN(input, hidden, numLayers: layers, nonLinearity: nn.NonLinearities.Tanh),
        };
        readout = nn.Linear(hidden, output);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        Tensor o = cell switch
        {
            "LSTM" => ((TorchSharp.Modules.LSTM)rnn).call(x, null).Item1,
            "GRU" => ((TorchSharp.Modules.GRU)rnn).call(x, null).Item1,
            _ => ((TorchSharp.Modules.RNN)rnn).call(x, null).Item1,
        };
        return readout.call(o);
    }
}
