using System.Numerics;
using Rnn.Simd.Cells;
using Rnn.Simd.Network;
using Rnn.Simd.Training;

namespace Rnn.Simd.Alternatives.Reservoir;

/// <summary>
/// Echo state networks (Jaeger 2001; Lukoševičius and Jaeger 2009; Lukoševičius 2012, "A Practical Guide to Applying
/// Echo State Networks") expressed as ordinary <see cref="RecurrentNetwork{T}"/>s, so that a trained one saves,
/// loads, forecasts and evaluates like any other network: a random fixed reservoir, only the readout is learned
/// (<see cref="EsnTrainer{T}"/>).
/// </summary>
/// <remarks>
/// <para>
/// The mapping (one recurrent layer of H = <see cref="EsnOptions.Units"/>):
/// leak rate a = 1: <see cref="CellType.Elman"/> with tanh, h(n) = tanh(W_in u(n) + W h(n-1) + b): weight_ih_l0 = W_in,
/// weight_hh_l0 = W, bias_ih_l0 = b, bias_hh_l0 = 0.
/// a &lt; 1: <see cref="CellType.Highway"/> of depth 1, s = h̃ ⊙ t + h(n-1) ⊙ (1 - t), h̃ = tanh(W_H u + R_H h(n-1) + b_H),
/// t = σ(W_T u + R_T h(n-1) + b_T), with W_H = W_in, R_H = W, b_H = b, W_T = R_T = 0 and b_T = logit(a), so t ≡ a and
/// s = (1 - a) h(n-1) + a tanh(W_in u + W h(n-1) + b): the leaky-integrator ESN of Lukoševičius 2012 Eq. 2-3.
/// readout.weight / readout.bias = W_out over [h; 1] (zero until trained); with <see cref="EsnOptions.DirectInputReadout"/>
/// W_out over [h; u; 1], its u part in readout.input_weight (<see cref="NetworkArchitecture.InputToOutput"/>).
/// With <see cref="EsnOptions.OutputFeedback"/> the network's input is [u(n); y(n-1)] (I + O values): W_in's last O
/// columns are the feedback weights W_fb (Jaeger 2001 §2, Eq. 1 with W^back).
/// </para>
/// <para>
/// Random draws, in this order from <c>new Rng(Seed)</c>: W row by row (each entry non-zero with probability Density,
/// then uniform in [-0.5, 0.5]); W_in row by row over the I input columns; b; W_fb row by row. W is then rescaled to
/// the spectral radius asked for, ρ(W) estimated by restarted Arnoldi (<c>SpectralRadius</c>: power iteration fails on
/// the complex-conjugate dominant pairs that random non-symmetric matrices usually have).
/// </para>
/// </remarks>
public static class EchoStateNetwork
{
    /// <summary>The architecture an ESN of these options has for data of <paramref name="inputSize"/> inputs and
    /// <paramref name="outputSize"/> outputs (see the class remarks).</summary>
    public static NetworkArchitecture Architecture(EsnOptions options, int inputSize, int outputSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (inputSize < 1) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "An ESN needs at least 1 input.");
        if (outputSize < 1) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "An ESN needs at least 1 output.");
        int networkInputs = inputSize + (options.OutputFeedback ? outputSize : 0);
        return options.LeakRate == 1
            ? new NetworkArchitecture(CellType.Elman, networkInputs, [options.Units], outputSize, Activation.Tanh, inputToOutput: options.DirectInputReadout)
            : new NetworkArchitecture(CellType.Highway, networkInputs, [options.Units], outputSize, recurrenceDepth: 1, inputToOutput: options.DirectInputReadout);
    }

    /// <summary>
    /// A new network holding a freshly drawn reservoir (see the class remarks) and a zero readout: what
    /// <see cref="EsnTrainer{T}"/> trains. Deterministic in <see cref="EsnOptions.Seed"/>.
    /// </summary>
    /// <param name="options">The ESN options (validated).</param>
    /// <param name="inputSize">I, the data's inputs per step (without the feedback columns).</param>
    /// <param name="outputSize">O, the outputs per step.</param>
    /// <typeparam name="T">float or double.</typeparam>
    public static RecurrentNetwork<T> CreateNetwork<T>(EsnOptions options, int inputSize, int outputSize)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var network = new RecurrentNetwork<T>(Architecture(options, inputSize, outputSize), options.Seed);
        InitializeReservoir(network, options);
        return network;
    }

    /// <summary>
    /// Overwrites every parameter of <paramref name="network"/> with the reservoir of <paramref name="options"/> and a
    /// zero readout, and marks the parameters changed.
    /// </summary>
    /// <exception cref="ArgumentException">The network does not have the architecture of these options (cell, layers,
    /// units, input size incl. feedback columns); the message names what differs.</exception>
    /// <exception cref="InvalidOperationException">The drawn W has spectral radius 0 (too sparse: raise Density).</exception>
    public static void InitializeReservoir<T>(RecurrentNetwork<T> network, EsnOptions options)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        NetworkArchitecture arch = network.Architecture;
        int o = arch.OutputSize, inputs = arch.InputSize - (options.OutputFeedback ? o : 0);
        CheckArchitecture(arch, options, inputs, nameof(network));
        int h = options.Units, total = arch.InputSize;
        var rng = new Rng(options.Seed);

        var w = new double[h * h];
        for (int i = 0; i < w.Length; i++)
        {
            if (rng.NextDouble() < options.Density) w[i] = rng.NextDouble() - 0.5;
        }
        SparseMatrix<double> sparse = SparseMatrix<double>.FromDense(w, h, h);
        double rho = sparse.NonZeros == 0 ? 0 : SpectralRadius.Estimate(h, sparse.Multiply, options.Seed ^ 0x9E3779B97F4A7C15UL);
        if (!(rho > 1e-12))
            throw new InvalidOperationException($"The drawn reservoir of {h} units at density {options.Density} has spectral radius {rho:G3} ({sparse.NonZeros} non-zeros): it cannot be rescaled to {options.SpectralRadius}; raise Density or Units.");
        double scale = options.SpectralRadius / rho;

        Span<T> p = network.Parameters;
        p.Clear();
        ParameterSlice wih = network.Layout.Get(0, ParameterKind.InputWeight), whh = network.Layout.Get(0, ParameterKind.RecurrentWeight);
        ParameterSlice bih = network.Layout.Get(0, ParameterKind.InputBias);
        // Rows [0, H) of every layer-0 slice are the candidate h̃ (Elman: the only block; highway: W_H, R_H, b_H).
        Span<T> wHh = p.Slice(whh.Offset, h * h);
        for (int i = 0; i < w.Length; i++) wHh[i] = T.CreateTruncating(w[i] * scale);
        Span<T> wIh = p.Slice(wih.Offset, h * total);
        for (int r = 0; r < h; r++)
            for (int c = 0; c < inputs; c++) wIh[r * total + c] = T.CreateTruncating(Draw(rng, options.InputScaling, options.BinaryInputWeights));
        Span<T> bias = p.Slice(bih.Offset, h);
        for (int r = 0; r < h; r++) bias[r] = T.CreateTruncating(Draw(rng, options.BiasScaling, options.BinaryInputWeights));
        if (options.OutputFeedback)
        {
            for (int r = 0; r < h; r++)
                for (int c = inputs; c < total; c++) wIh[r * total + c] = T.CreateTruncating(rng.NextUniform(-options.FeedbackScaling, options.FeedbackScaling));
        }
        if (arch.Cell == CellType.Highway)
        {
            // Transform gate rows [H, 2H): W_T = R_T = 0 (already), b_T = logit(a) so that t = σ(b_T) = a.
            double a = options.LeakRate;
            p.Slice(bih.Offset + h, h).Fill(T.CreateTruncating(Math.Log(a / (1 - a))));
        }
        network.MarkParametersChanged();
    }

    /// <summary>
    /// Trains the <see cref="EsnOptions.Members"/> reservoirs of an ensemble (member k: <see cref="EsnOptions.ForMember"/>,
    /// Seed + k), each by <see cref="EsnTrainer{T}"/>, one after another on the calling thread; the caller averages
    /// their outputs (Lukoševičius 2012 §3.2.1). Cancellation stops after the member in progress, returning the
    /// members trained so far.
    /// </summary>
    /// <returns>The trained networks and their training results, member order.</returns>
    public static (RecurrentNetwork<T>[] Networks, TrainingResult[] Results) TrainMembers<T>(EsnOptions options, SequenceData<T> train,
        SequenceData<T>? validation = null, CancellationToken cancellationToken = default)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        options.Validate();
        var networks = new List<RecurrentNetwork<T>>(options.Members);
        var results = new List<TrainingResult>(options.Members);
        for (int k = 0; k < options.Members; k++)
        {
            EsnOptions member = options.ForMember(k);
            RecurrentNetwork<T> network = CreateNetwork<T>(member, train.InputSize, train.OutputSize);
            TrainingResult result = new EsnTrainer<T>(network, member).Fit(train, validation, cancellationToken);
            if (result.Cancelled && result.EpochsRun == 0) break;
            networks.Add(network);
            results.Add(result);
            if (result.Cancelled) break;
        }
        return ([.. networks], [.. results]);
    }

    private static double Draw(Rng rng, double scale, bool binary) =>
        binary ? (rng.NextDouble() < 0.5 ? -scale : scale) : rng.NextUniform(-scale, scale);

    /// <summary>Throws unless <paramref name="arch"/> is the ESN architecture of <paramref name="options"/> for
    /// <paramref name="inputs"/> data inputs.</summary>
    internal static void CheckArchitecture(NetworkArchitecture arch, EsnOptions options, int inputs, string paramName)
    {
        if (arch.NumLayers != 1)
            ThrowHelper.ThrowArgument(paramName, $"An echo state network has one reservoir layer; this network has {arch.NumLayers} layers.");
        if (arch.HiddenSizes[0] != options.Units)
            ThrowHelper.ThrowArgument(paramName, $"The network's hidden size {arch.HiddenSizes[0]} differs from the ESN option Units = {options.Units}.");
        if (options.LeakRate == 1 && (arch.Cell != CellType.Elman || arch.Activation != Activation.Tanh))
            ThrowHelper.ThrowArgument(paramName, $"An ESN with leak rate 1 is an Elman tanh network; this one is {arch}. Use EchoStateNetwork.CreateNetwork.");
        if (options.LeakRate < 1 && (arch.Cell != CellType.Highway || arch.RecurrenceDepth != 1))
            ThrowHelper.ThrowArgument(paramName, $"An ESN with leak rate {options.LeakRate} < 1 is a highway network of depth 1 (its transform gate fixed at the leak rate); this one is {arch}. Use EchoStateNetwork.CreateNetwork.");
        if (arch.InputToOutput != options.DirectInputReadout)
            ThrowHelper.ThrowArgument(paramName, options.DirectInputReadout
                ? $"The ESN option DirectInputReadout needs a network with the input-to-output readout term (NetworkArchitecture.InputToOutput); this one is {arch}. Use EchoStateNetwork.CreateNetwork."
                : $"This network has an input-to-output readout term that the ESN would leave untrained; set DirectInputReadout or use EchoStateNetwork.CreateNetwork.");
        if (inputs < 1)
            ThrowHelper.ThrowArgument(paramName, $"The network takes {arch.InputSize} inputs; with output feedback of {arch.OutputSize} outputs that leaves {inputs} data inputs.");
    }

    /// <summary>
    /// A generative (free) run of a network trained with <see cref="EsnOptions.OutputFeedback"/> (Jaeger 2001 §2;
    /// Lukoševičius 2012 §8.3): at each step the network reads [u(n); y(n-1)] with y(n-1) its own previous output
    /// (<paramref name="lastOutput"/> before the first step, e.g. the last teacher value), and writes y(n).
    /// <paramref name="state"/> carries on from where it is (run the teacher-forced part through it first).
    /// </summary>
    /// <param name="network">A network of input size I + O.</param>
    /// <param name="state">Its batch-1 state; advanced.</param>
    /// <param name="inputs">S x I external inputs (I = network inputs - O).</param>
    /// <param name="lastOutput">y before the first step, length O.</param>
    /// <param name="outputs">S x O, overwritten with the generated outputs.</param>
    /// <typeparam name="T">float or double.</typeparam>
    public static void RunGenerative<T>(RecurrentNetwork<T> network, NetworkState<T> state, ReadOnlySpan<T> inputs, ReadOnlySpan<T> lastOutput, Span<T> outputs)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(state);
        int o = network.Architecture.OutputSize, i = network.Architecture.InputSize - o;
        if (i < 1) ThrowHelper.ThrowArgument(nameof(network), $"The network takes {network.Architecture.InputSize} inputs; a feedback network needs more than its {o} outputs.");
        if (lastOutput.Length != o) ThrowHelper.ThrowArgument(nameof(lastOutput), $"lastOutput has {lastOutput.Length} values; the network gives {o}.");
        if (inputs.Length % i != 0) ThrowHelper.ThrowArgument(nameof(inputs), $"inputs length {inputs.Length} is not a multiple of the {i} external inputs.");
        int steps = inputs.Length / i;
        if (outputs.Length < steps * o) ThrowHelper.ThrowArgument(nameof(outputs), $"outputs holds {outputs.Length} values; {steps} steps x {o} outputs need {steps * o}.");
        var x = new T[i + o];
        lastOutput.CopyTo(x.AsSpan(i));
        for (int t = 0; t < steps; t++)
        {
            inputs.Slice(t * i, i).CopyTo(x);
            Span<T> y = outputs.Slice(t * o, o);
            network.Step(x, y, state);
            y.CopyTo(x.AsSpan(i));
        }
    }
}
