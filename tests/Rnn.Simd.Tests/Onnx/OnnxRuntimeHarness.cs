using Microsoft.ML.OnnxRuntime;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx;

namespace Rnn.Simd.Tests.Onnx;

/// <summary>
/// The test classes that open ONNX Runtime sessions run one after another (each class's tests already do), so that no
/// two sessions are created or run at once in the test process: ONNX Runtime supports that, but the suite gains
/// nothing from it, and a native fault is easier to place when one test at a time talks to the runtime.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OnnxRuntimeCollection
{
    public const string Name = "ONNX Runtime sessions";
}

/// <summary>
/// Runs an exported model in ONNX Runtime (Microsoft.ML.OnnxRuntime, CPU, one intra-op thread) with named float
/// inputs, and returns every output by name. Creating the session is ONNX Runtime's own load: it parses the protobuf,
/// checks the graph (operator schemas, attribute types, input counts, type and shape inference) and fails on an
/// invalid model, so a session that opens is a model the runtime accepts.
/// </summary>
internal sealed class OnnxRuntimeHarness : IDisposable
{
    private readonly SessionOptions _options;

    public OnnxRuntimeHarness(byte[] model)
    {
        _options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        try
        {
            Session = new InferenceSession(model, _options);
        }
        catch
        {
            _options.Dispose(); // a model the runtime refuses: release the native options now, not on the finalizer thread
            throw;
        }
    }

    public InferenceSession Session { get; }

    /// <summary>Runs the model once; every output of the graph comes back as (shape, values).</summary>
    public Dictionary<string, (long[] Shape, float[] Values)> Run(IReadOnlyDictionary<string, (float[] Values, long[] Shape)> inputs)
    {
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach ((string name, (float[] data, long[] shape)) in inputs)
            {
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(data, shape));
            }
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = Session.Run(runOptions, names, values, Session.OutputNames);
            var outputs = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
            int k = 0;
            foreach (OrtValue result in results)
            {
                long[] shape = result.GetTensorTypeAndShape().Shape;
                outputs[Session.OutputNames[k++]] = (shape, result.GetTensorDataAsSpan<float>().ToArray());
            }
            return outputs;
        }
        finally
        {
            foreach (OrtValue v in values) v.Dispose();
        }
    }

    /// <summary>The feeds of one run: the sequence [T, B, I] and, when given, every layer's state [1, B, H] of each member.</summary>
    public static Dictionary<string, (float[] Values, long[] Shape)> Feeds(
        NetworkArchitecture arch, float[] inputs, int steps, int batch, IReadOnlyList<NetworkState<float>>? states)
    {
        var feeds = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal)
        {
            [OnnxNames.Input] = (inputs, [steps, batch, arch.InputSize]),
        };
        if (states is null) return feeds;
        for (int m = 0; m < states.Count; m++)
        {
            int member = states.Count > 1 ? m : -1;
            for (int l = 0; l < arch.NumLayers; l++)
            {
                long[] shape = [1, batch, arch.HiddenSizes[l]];
                feeds[OnnxNames.InitialHidden(l, member)] = (states[m].Hidden(l).ToArray(), shape);
                if (arch.Cell == CellType.Lstm) feeds[OnnxNames.InitialCell(l, member)] = (states[m].Cell(l).ToArray(), shape);
            }
        }
        return feeds;
    }

    public void Dispose()
    {
        Session.Dispose();
        _options.Dispose();
    }
}
