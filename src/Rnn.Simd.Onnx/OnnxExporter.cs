using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using Google.Protobuf;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Onnx.Proto;
using Rnn.Simd.Persistence;

namespace Rnn.Simd.Onnx;

/// <summary>
/// Exports a <see cref="RecurrentNetwork{T}"/> (or a seed ensemble of them) as an ONNX model made of standard ai.onnx
/// operators only, so that ONNX Runtime or any other ONNX runtime runs it without custom operators.
/// </summary>
/// <remarks>
/// <para>
/// The graph, for each recurrent layer l (bottom first): one <c>LSTM</c>, <c>GRU</c> or <c>RNN</c> node (forward
/// direction, <c>hidden_size</c> = H_l, <c>layout</c> 0) whose W [1, G·H, I_l], R [1, G·H, H] and B [1, 2·G·H]
/// initialisers hold <c>weight_ih_l{l}</c>, <c>weight_hh_l{l}</c> and [<c>bias_ih_l{l}</c>, <c>bias_hh_l{l}</c>] with the
/// gate blocks reordered from PyTorch's order to ONNX's: LSTM i,f,g,o becomes i,o,f,c; GRU r,z,n becomes z,r,h, with
/// <c>linear_before_reset</c> = 1 (PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) is ONNX's h_t with the
/// reset applied after the recurrent product); an Elman layer is an RNN node whose one activation is Tanh, Relu or
/// Sigmoid as the architecture says. The node's Y [T, 1, B, H] goes through <c>Squeeze</c> of axis 1 (the
/// num_directions axis) to [T, B, H], the next layer's input. The readout is <c>MatMul</c> by readout.weightᵀ [H, O]
/// then <c>Add</c> of readout.bias [O] over the whole sequence, giving [T, B, O]. An ensemble of M members repeats
/// this per member (tensors prefixed <c>m{k}_</c>) and averages the M readouts with <c>Mean</c>, as the library's
/// Forecaster averages members.
/// </para>
/// <para>
/// Inputs and outputs (<see cref="OnnxNames"/>): <c>input</c> float [T, B, I] with symbolic T ("sequence") and B
/// ("batch"); with <see cref="OnnxExportOptions.StateInputs"/> (the default) each layer's <c>initial_h_l{l}</c> (and
/// <c>initial_c_l{l}</c> for LSTM) [1, B, H_l]; outputs <c>output</c> float [T, B, O] and each layer's
/// <c>final_h_l{l}</c> (and <c>final_c_l{l}</c>) [1, B, H_l]. Running the model over a sequence from a state gives what
/// <see cref="RecurrentNetwork{T}.Forward"/> gives from that state (checked in ONNX Runtime by the test suite, to
/// 1e-5 relative); T = 1 with the final states fed back is <see cref="RecurrentNetwork{T}.Step"/>.
/// </para>
/// <para>
/// Element type: the model is always float32, the type production inference runs in and the only one ONNX Runtime's
/// RNN kernel accepts. A double network is exported with each parameter rounded to the nearest float; a parameter
/// beyond float's range is refused (<see cref="ArgumentException"/> naming it), never written as infinity. The file
/// is a protobuf message serialised by Google.Protobuf from classes generated at build time (Proto/onnx-subset.proto,
/// ONNX's field numbers); weights are little-endian <c>raw_data</c>.
/// </para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The opset written unless <see cref="OnnxExportOptions.Opset"/> says otherwise.</summary>
    public const int DefaultOpset = 17;

    /// <summary>The lowest opset accepted: 14 (LSTM-14, GRU-14 and RNN-14, whose semantics every later opset keeps).</summary>
    public const int MinOpset = 14;

    /// <summary>The highest opset accepted: 22 (the last revision of LSTM, GRU and RNN, which only added element types).</summary>
    public const int MaxOpset = 22;

    /// <summary>producer_name of every exported model.</summary>
    public const string ProducerName = "Rnn.Simd";

    // protobuf messages are limited to 2 GiB; the exporter writes weights inline (no external data files).
    private const long MaxModelBytes = int.MaxValue - (1 << 20);

    /// <summary>Exports one network to <paramref name="path"/> atomically (temporary file in the same directory,
    /// flushed, then renamed over the destination; on failure the previous file is untouched).</summary>
    /// <typeparam name="T">float or double (double is rounded to float, see the class remarks).</typeparam>
    /// <param name="network">The network; its current parameters are exported.</param>
    /// <param name="path">Destination file, usually *.onnx.</param>
    /// <param name="options">Opset, state inputs, graph name and metadata; null for the defaults.</param>
    /// <exception cref="ArgumentException">A parameter is NaN, infinite or beyond float's range (the message names the
    /// tensor and element), an option is out of range, or a metadata key is empty.</exception>
    /// <exception cref="NotSupportedException">The network's cell has no standard ONNX operator, or the model would
    /// exceed protobuf's 2 GiB.</exception>
    /// <exception cref="IOException">The file could not be written (the previous file is untouched).</exception>
    public static void Export<T>(RecurrentNetwork<T> network, string path, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, ToBytes(network, options));
    }

    /// <summary>Exports a seed ensemble (M ≥ 1 members of one architecture, outputs averaged with <c>Mean</c>) to
    /// <paramref name="path"/> atomically. A list of one writes exactly the bytes of the single-network overload.</summary>
    /// <param name="members">The members, member 0 first.</param>
    /// <param name="path">Destination file.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <exception cref="ArgumentException">The list is empty, a member is null or has another architecture than member
    /// 0, or as the single-network overload.</exception>
    /// <inheritdoc cref="Export{T}(RecurrentNetwork{T}, string, OnnxExportOptions?)"/>
    public static void Export<T>(IReadOnlyList<RecurrentNetwork<T>> members, string path, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, ToBytes(members, options));
    }

    /// <summary>Writes the model of one network to a stream (from its position; the stream is not closed).</summary>
    /// <inheritdoc cref="Export{T}(RecurrentNetwork{T}, string, OnnxExportOptions?)"/>
    public static void Export<T>(RecurrentNetwork<T> network, Stream stream, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(network, options));
    }

    /// <summary>The serialised ONNX model of one network (what <see cref="Export{T}(RecurrentNetwork{T}, string, OnnxExportOptions?)"/> writes).</summary>
    /// <inheritdoc cref="Export{T}(RecurrentNetwork{T}, string, OnnxExportOptions?)"/>
    public static byte[] ToBytes<T>(RecurrentNetwork<T> network, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        return ToBytes([network], options);
    }

    /// <summary>The serialised ONNX model of a seed ensemble.</summary>
    /// <inheritdoc cref="Export{T}(IReadOnlyList{RecurrentNetwork{T}}, string, OnnxExportOptions?)"/>
    public static byte[] ToBytes<T>(IReadOnlyList<RecurrentNetwork<T>> members, OnnxExportOptions? options = null)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ModelProto model = Build(members, options ?? new OnnxExportOptions());
        long size = model.CalculateSize();
        if (size > MaxModelBytes)
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"The ONNX model would be {size} bytes; a protobuf message holds at most 2 GiB and this exporter writes no external data files."));
        return model.ToByteArray();
    }

    /// <summary>The IR version written with an opset: the IR of the ONNX release that introduced the opset.</summary>
    internal static int IrVersion(int opset) => opset switch
    {
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    private static ModelProto Build<T>(IReadOnlyList<RecurrentNetwork<T>> members, OnnxExportOptions options)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        NetworkArchitecture arch = members[0]?.Architecture ?? throw new ArgumentException("Member 0 is null.", nameof(members));
        for (int k = 1; k < members.Count; k++)
        {
            if (members[k] is null) throw new ArgumentException($"Member {k} is null.", nameof(members));
            if (!members[k].Architecture.Equals(arch))
                throw new ArgumentException($"Member {k} has architecture {members[k].Architecture}, member 0 has {arch}: an ensemble shares one architecture.", nameof(members));
        }
        if (options.Opset is < MinOpset or > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, $"Opset must be {MinOpset} to {MaxOpset}.");
        ArgumentException.ThrowIfNullOrWhiteSpace(options.GraphName, nameof(options));
        OperatorOf(arch); // refuses an unsupported cell before any work

        var graph = new GraphProto { Name = options.GraphName };
        graph.DocString = Describe(arch, members.Count, options);
        graph.Input.Add(TensorInfo(OnnxNames.Input, "sequence", "batch", arch.InputSize));
        graph.Initializer.Add(Int64Tensor(SqueezeAxes, [1], [1]));

        bool ensemble = members.Count > 1;
        var memberOutputs = new List<string>(members.Count);
        for (int k = 0; k < members.Count; k++)
            memberOutputs.Add(AddMember(graph, members[k], ensemble ? k : -1, options.StateInputs));
        if (ensemble)
        {
            var mean = Node("Mean", "ensemble_mean", memberOutputs, [OnnxNames.Output]);
            graph.Node.Add(mean);
        }
        graph.Output.Insert(0, TensorInfo(OnnxNames.Output, "sequence", "batch", arch.OutputSize));

        var model = new ModelProto
        {
            IrVersion = IrVersion(options.Opset),
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0",
            ModelVersion = 1,
            DocString = "Exported by Rnn.Simd.Onnx: " + arch,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        foreach ((string key, string value) in Metadata(arch, members.Count, typeof(T), options))
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private const string SqueezeAxes = "squeeze_axes";

    /// <summary>Adds one member's layers and readout; returns the name of its [T, B, O] readout.</summary>
    private static string AddMember<T>(GraphProto graph, RecurrentNetwork<T> net, int member, bool stateInputs)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        NetworkArchitecture arch = net.Architecture;
        string p = OnnxNames.MemberPrefix(member);
        string op = OperatorOf(arch);
        int g = arch.GateCount;
        int[] order = OnnxGateOrder(arch.Cell);
        bool lstm = arch.Cell == CellType.Lstm;
        string x = OnnxNames.Input;
        for (int l = 0; l < arch.NumLayers; l++)
        {
            int h = arch.HiddenSizes[l], inSize = arch.LayerInputSize(l);
            string suffix = string.Create(CultureInfo.InvariantCulture, $"_l{l}");
            string w = p + "W" + suffix, r = p + "R" + suffix, b = p + "B" + suffix;
            graph.Initializer.Add(FloatTensor(w, [1, g * h, inSize], Reordered(net, $"weight_ih_l{l}", order, h, inSize)));
            graph.Initializer.Add(FloatTensor(r, [1, g * h, h], Reordered(net, $"weight_hh_l{l}", order, h, h)));
            float[] bias = new float[2 * g * h];
            Reordered(net, $"bias_ih_l{l}", order, h, 1).CopyTo(bias, 0);
            Reordered(net, $"bias_hh_l{l}", order, h, 1).CopyTo(bias, g * h);
            graph.Initializer.Add(FloatTensor(b, [1, 2 * g * h], bias));

            string h0 = "", c0 = "";
            if (stateInputs)
            {
                h0 = OnnxNames.InitialHidden(l, member);
                graph.Input.Add(StateInfo(h0, h));
                if (lstm)
                {
                    c0 = OnnxNames.InitialCell(l, member);
                    graph.Input.Add(StateInfo(c0, h));
                }
            }
            string y = p + "Y" + suffix, hn = OnnxNames.FinalHidden(l, member);
            // Inputs: X, W, R, B, sequence_lens (omitted: every stream runs all T steps), initial_h[, initial_c].
            List<string> inputs = [x, w, r, b, "", h0];
            List<string> outputs = [y, hn];
            if (lstm)
            {
                inputs.Add(c0);
                outputs.Add(OnnxNames.FinalCell(l, member));
            }
            TrimOmitted(inputs);
            NodeProto node = Node(op, p + op.ToLowerInvariant() + suffix, inputs, outputs);
            node.Attribute.Add(IntAttribute("hidden_size", h));
            if (arch.Cell == CellType.Gru) node.Attribute.Add(IntAttribute("linear_before_reset", 1));
            if (arch.Cell == CellType.Elman) node.Attribute.Add(StringsAttribute("activations", [ActivationName(arch.Activation)]));
            graph.Node.Add(node);
            graph.Output.Add(StateInfo(hn, h));
            if (lstm) graph.Output.Add(StateInfo(OnnxNames.FinalCell(l, member), h));

            string squeezed = p + "H" + suffix;
            graph.Node.Add(Node("Squeeze", p + "squeeze" + suffix, [y, SqueezeAxes], [squeezed]));
            x = squeezed;
        }

        int top = arch.TopHiddenSize, o = arch.OutputSize;
        ReadOnlySpan<T> weight = net.Parameter("readout.weight"); // O x H_top
        float[] weightT = new float[top * o];                     // H_top x O
        for (int k = 0; k < o; k++)
            for (int j = 0; j < top; j++)
                weightT[j * o + k] = ToFloat(weight[k * top + j], "readout.weight", k * top + j);
        string wOut = p + "readout_weight_t", bOut = p + "readout_bias";
        graph.Initializer.Add(FloatTensor(wOut, [top, o], weightT));
        graph.Initializer.Add(FloatTensor(bOut, [o], Converted(net.Parameter("readout.bias"), "readout.bias")));
        string product = p + "readout_matmul";
        string result = member < 0 ? OnnxNames.Output : p + "output";
        graph.Node.Add(Node("MatMul", p + "readout_matmul", [x, wOut], [product]));
        if (arch.InputToOutput)
        {
            // y = h_top · W_outᵀ + x · W_xoᵀ + b_out: the input-to-output readout reads the graph's input [T, B, I].
            int i = arch.InputSize;
            ReadOnlySpan<T> direct = net.Parameter(ParameterLayout.InputToOutputName); // O x I
            float[] directT = new float[i * o];                                        // I x O
            for (int k = 0; k < o; k++)
                for (int j = 0; j < i; j++)
                    directT[j * o + k] = ToFloat(direct[k * i + j], ParameterLayout.InputToOutputName, k * i + j);
            string wDirect = p + "readout_input_weight_t", directProduct = p + "readout_input_matmul", sum = p + "readout_sum";
            graph.Initializer.Add(FloatTensor(wDirect, [i, o], directT));
            graph.Node.Add(Node("MatMul", p + "readout_input_matmul", [OnnxNames.Input, wDirect], [directProduct]));
            graph.Node.Add(Node("Add", p + "readout_input_add", [product, directProduct], [sum]));
            product = sum;
        }
        graph.Node.Add(Node("Add", p + "readout_add", [product, bOut], [result]));
        return result;
    }

    /// <summary>Trailing omitted optional inputs are dropped (an empty name in the middle marks an omitted one).</summary>
    private static void TrimOmitted(List<string> inputs)
    {
        while (inputs.Count > 0 && inputs[^1].Length == 0) inputs.RemoveAt(inputs.Count - 1);
    }

    private static string OperatorOf(NetworkArchitecture arch) => arch.Cell switch
    {
        CellType.Elman => "RNN",
        CellType.Lstm => "LSTM",
        CellType.Gru => "GRU",
        _ => throw new NotSupportedException($"Cell {arch.Cell} has no standard ONNX operator; the exporter writes Elman (RNN), LSTM and GRU networks."),
    };

    /// <summary>For each ONNX gate block, the PyTorch block it takes: LSTM ONNX (i, o, f, c) = PyTorch (0, 3, 1, 2) of
    /// (i, f, g, o); GRU ONNX (z, r, h) = PyTorch (1, 0, 2) of (r, z, n); Elman has one block.</summary>
    internal static int[] OnnxGateOrder(CellType cell) => cell switch
    {
        CellType.Lstm => [0, 3, 1, 2],
        CellType.Gru => [1, 0, 2],
        _ => [0],
    };

    private static string ActivationName(Activation activation) => activation switch
    {
        Activation.Tanh => "Tanh",
        Activation.Relu => "Relu",
        Activation.Sigmoid => "Sigmoid",
        _ => throw new NotSupportedException($"Elman activation {activation} has no ONNX RNN activation."),
    };

    /// <summary>A (G·H) x cols slice with its H-row gate blocks permuted into ONNX order, as float.</summary>
    private static float[] Reordered<T>(RecurrentNetwork<T> net, string name, int[] order, int h, int cols)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ReadOnlySpan<T> src = net.Parameter(name);
        int block = h * cols;
        var dst = new float[src.Length];
        for (int k = 0; k < order.Length; k++)
        {
            int from = order[k] * block, to = k * block;
            for (int e = 0; e < block; e++) dst[to + e] = ToFloat(src[from + e], name, from + e);
        }
        return dst;
    }

    private static float[] Converted<T>(ReadOnlySpan<T> src, string name) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var dst = new float[src.Length];
        for (int e = 0; e < src.Length; e++) dst[e] = ToFloat(src[e], name, e);
        return dst;
    }

    private static float ToFloat<T>(T value, string name, int index) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        float f = float.CreateTruncating(value); // round to nearest for double
        if (!float.IsFinite(f))
        {
            string what = T.IsNaN(value) ? "NaN" : T.IsInfinity(value) ? "infinite" : "beyond float's range (" + value.ToString(null, CultureInfo.InvariantCulture) + ")";
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Parameter {name} element {index} is {what}; an ONNX model of this network would compute nothing useful."));
        }
        return f;
    }

    private static NodeProto Node(string op, string name, IEnumerable<string> inputs, IEnumerable<string> outputs)
    {
        var node = new NodeProto { OpType = op, Name = name, Domain = "" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto StringsAttribute(string name, string[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        foreach (string v in values) a.Strings.Add(ByteString.CopyFromUtf8(v));
        return a;
    }

    private static TensorProto FloatTensor(string name, long[] dims, float[] values)
    {
        var bytes = new byte[checked(values.Length * sizeof(float))];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static TensorProto Int64Tensor(string name, long[] dims, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        return t;
    }

    /// <summary>A float tensor [dim0, dim1, size] with symbolic or fixed leading sizes.</summary>
    private static ValueInfoProto TensorInfo(string name, string dim0, string dim1, int size)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = dim0 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = dim1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    /// <summary>A state [1, batch, H].</summary>
    private static ValueInfoProto StateInfo(string name, int hidden)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 1 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = hidden });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static string Describe(NetworkArchitecture arch, int members, OnnxExportOptions options)
    {
        string states = options.StateInputs
            ? "Inputs: input [T, B, I] and each layer's initial_h" + (arch.Cell == CellType.Lstm ? " / initial_c" : "") + " [1, B, H] (zeros for a new sequence)."
            : "Input: input [T, B, I]; every run starts from zero state.";
        return string.Create(CultureInfo.InvariantCulture,
            $"{arch}{(members > 1 ? $", mean of {members} members" : "")}. {states} Outputs: output [T, B, O] and each layer's final state [1, B, H].");
    }

    private static SortedDictionary<string, string> Metadata(NetworkArchitecture arch, int members, Type elementType, OnnxExportOptions options)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["rnn_simd.architecture"] = arch.ToString(),
            ["rnn_simd.cell"] = arch.Cell.ToString(),
            ["rnn_simd.hidden_sizes"] = string.Join(",", arch.HiddenSizes),
            ["rnn_simd.members"] = members.ToString(CultureInfo.InvariantCulture),
            ["rnn_simd.source_element_type"] = elementType == typeof(double) ? "float64 (rounded to float32)" : "float32",
        };
        if (options.Metadata is not null)
        {
            foreach ((string key, string value) in options.Metadata)
            {
                if (string.IsNullOrEmpty(key)) throw new ArgumentException("A metadata key is empty.", nameof(options));
                all[key] = value ?? "";
            }
        }
        return all;
    }
}
