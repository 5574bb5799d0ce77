using Microsoft.ML.OnnxRuntime;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;

namespace Rnn.Simd.Cli.Bench;

/// <summary>
/// ONNX Runtime running the ONNX export of a network one step at a time (T = 1, B = 1) with its state fed back: the
/// peer of <see cref="RecurrentNetwork{T}.Step"/>. The session has one intra-op and one inter-op thread, sequential
/// execution and every graph optimisation. Every tensor is bound once, to fixed buffers, through two I/O bindings that
/// swap the state buffers (binding 0 reads state A and writes state B, binding 1 the reverse), so a step is one
/// <see cref="InferenceSession.RunWithBinding(RunOptions, OrtIoBinding)"/> call and no copy of the state.
/// Also compiled into bench/Rnn.Simd.Benchmarks (a linked file), where BenchmarkDotNet times the same call.
/// </summary>
internal sealed class OnnxRuntimeStep : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly List<OrtValue> _values = [];
    private readonly OrtIoBinding[] _bindings = new OrtIoBinding[2];
    private readonly float[] _input, _output;
    private readonly float[][] _stateA, _stateB;
    private int _next;
    private bool _disposed;

    /// <summary>Exports <paramref name="network"/> and opens it in ONNX Runtime.</summary>
    /// <exception cref="DllNotFoundException">ONNX Runtime's native library is not next to the tool (see <see cref="TryDescribeRuntime"/>).</exception>
    public OnnxRuntimeStep(RecurrentNetwork<float> network)
    {
        ArgumentNullException.ThrowIfNull(network);
        NetworkArchitecture arch = network.Architecture;
        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // One thread does the work: spinning would only burn the second core that the other benchmarks share.
        _options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            _session = new InferenceSession(OnnxExporter.ToBytes(network), _options);
        }
        catch
        {
            _options.Dispose();
            _runOptions.Dispose();
            throw;
        }

        _input = new float[arch.InputSize];
        _output = new float[arch.OutputSize];
        bool lstm = arch.Cell == CellType.Lstm;
        int states = arch.NumLayers * (lstm ? 2 : 1);
        _stateA = new float[states][];
        _stateB = new float[states][];
        var names = new (string Initial, string Final, int Hidden)[states];
        for (int l = 0, s = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l];
            names[s++] = (OnnxNames.InitialHidden(l), OnnxNames.FinalHidden(l), h);
            if (lstm) names[s++] = (OnnxNames.InitialCell(l), OnnxNames.FinalCell(l), h);
        }
        OrtValue x = Bind(_input, [1, 1, arch.InputSize]), y = Bind(_output, [1, 1, arch.OutputSize]);
        var a = new OrtValue[states];
        var b = new OrtValue[states];
        for (int s = 0; s < states; s++)
        {
            _stateA[s] = new float[names[s].Hidden];
            _stateB[s] = new float[names[s].Hidden];
            a[s] = Bind(_stateA[s], [1, 1, names[s].Hidden]);
            b[s] = Bind(_stateB[s], [1, 1, names[s].Hidden]);
        }
        for (int k = 0; k < 2; k++)
        {
            OrtIoBinding binding = _session.CreateIoBinding();
            binding.BindInput(OnnxNames.Input, x);
            binding.BindOutput(OnnxNames.Output, y);
            for (int s = 0; s < states; s++)
            {
                binding.BindInput(names[s].Initial, k == 0 ? a[s] : b[s]);
                binding.BindOutput(names[s].Final, k == 0 ? b[s] : a[s]);
            }
            _bindings[k] = binding;
        }
    }

    /// <summary>The step's input x_t, I values; write it before <see cref="Step"/>.</summary>
    public Span<float> Input => _input;

    /// <summary>The step's output, O values, valid after <see cref="Step"/>.</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>State buffer <paramref name="index"/> after the last step (layer by layer, h then c for LSTM; for checks).</summary>
    public ReadOnlySpan<float> State(int index) => (_next == 1 ? _stateB : _stateA)[index];

    /// <summary>Sets every state to zero.</summary>
    public void Reset()
    {
        foreach (float[] s in _stateA) Array.Clear(s);
        foreach (float[] s in _stateB) Array.Clear(s);
        _next = 0;
    }

    /// <summary>One step: reads <see cref="Input"/> and the current state, writes <see cref="Output"/> and the next state.</summary>
    public void Step()
    {
        _session.RunWithBinding(_runOptions, _bindings[_next]);
        _next ^= 1;
    }

    /// <summary>"ONNX Runtime 1.32.0" (the native library's own version), or null with the reason when it cannot be loaded.</summary>
    public static string? TryDescribeRuntime(out string? problem)
    {
        try
        {
            problem = null;
            return "ONNX Runtime " + OrtEnv.Instance().GetVersionString();
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException or OnnxRuntimeException)
        {
            problem = (e is TypeInitializationException { InnerException: { } inner } ? inner : e).Message;
            return null;
        }
    }

    private OrtValue Bind(float[] buffer, long[] shape)
    {
        OrtValue v = OrtValue.CreateTensorValueFromMemory(buffer, shape);
        _values.Add(v);
        return v;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (OrtIoBinding b in _bindings) b?.Dispose();
        foreach (OrtValue v in _values) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
