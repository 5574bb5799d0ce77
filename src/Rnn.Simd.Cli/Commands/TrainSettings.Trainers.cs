using System.ComponentModel;
using Spectre.Console.Cli;

namespace Rnn.Simd.Cli.Commands;

/// <summary>
/// The options of <c>rnn-simd train</c> that belong to the trainers other than BPTT (<c>--trainer</c>; each trainer's
/// file in <c>Train/Trainers</c> lists the ones it takes and parses them; any other trainer refuses them).
/// </summary>
public sealed partial class TrainSettings
{
    /// <summary>rtrl, ekf: steps per weight update.</summary>
    [CommandOption("--update-every <K>")]
    [Description("rtrl: update the weights every K steps (1: every step, fully online). ekf: one filter update per instance of K steps. Default 1.")]
    public string? UpdateEvery { get; init; }

    /// <summary>ekf: global or decoupled.</summary>
    [CommandOption("--ekf-variant <NAME>")]
    [Description("ekf: decoupled (node-decoupled EKF, default) or global (one covariance over every weight).")]
    public string? EkfVariant { get; init; }

    /// <summary>ekf: R0.</summary>
    [CommandOption("--ekf-r <R>")]
    [Description("ekf: measurement noise R of the first epoch (default 100), annealed to --ekf-r-final.")]
    public string? EkfR { get; init; }

    /// <summary>ekf: R of the last epoch.</summary>
    [CommandOption("--ekf-r-final <R>")]
    [Description("ekf: measurement noise R of the last epoch (default 30).")]
    public string? EkfRFinal { get; init; }

    /// <summary>ekf: Q0.</summary>
    [CommandOption("--ekf-q <Q>")]
    [Description("ekf: process noise q of the first epoch, Q = q·I (default 1e-6), annealed to --ekf-q-final.")]
    public string? EkfQ { get; init; }

    /// <summary>ekf: Q of the last epoch.</summary>
    [CommandOption("--ekf-q-final <Q>")]
    [Description("ekf: process noise q of the last epoch (default 1e-8).")]
    public string? EkfQFinal { get; init; }

    /// <summary>ekf: P0 scale.</summary>
    [CommandOption("--ekf-p0 <P>")]
    [Description("ekf: initial covariance P0 = P·I (default 1).")]
    public string? EkfP0 { get; init; }

    /// <summary>ekf: truncation depth of the Jacobian.</summary>
    [CommandOption("--ekf-depth <H>")]
    [Description("ekf: steps h the output Jacobian is back-propagated through (EKF with BPTT(h); default 10).")]
    public string? EkfDepth { get; init; }

    /// <summary>cmaes, evolino: λ.</summary>
    [CommandOption("--population <N>")]
    [Description("cmaes, evolino: candidates per generation λ ≥ 2 (default 4 + ⌊3 ln n⌋ for n evolved weights).")]
    public string? Population { get; init; }

    /// <summary>cmaes, evolino: σ0.</summary>
    [CommandOption("--sigma <S>")]
    [Description("cmaes, evolino: initial CMA-ES step size σ0 around the initial weights (default 0.1).")]
    public string? Sigma { get; init; }

    /// <summary>cmaes, evolino: covariance model.</summary>
    [CommandOption("--cma-variant <NAME>")]
    [Description("cmaes, evolino: full, separable (sep-CMA-ES, diagonal) or auto (full up to 100 weights, separable above; default).")]
    public string? CmaVariant { get; init; }

    /// <summary>cmaes, evolino: evaluation budget.</summary>
    [CommandOption("--evaluations <N>")]
    [Description("cmaes, evolino: stop after N fitness evaluations (default: only --epochs generations bound the run).")]
    public string? Evaluations { get; init; }

    /// <summary>evolino, esn: ridge λ (esn: a list, the validation-best kept).</summary>
    [CommandOption("--ridge <LAMBDA>")]
    [Description("evolino: ridge λ ≥ 0 of the readout (default 1e-6). esn: λ or a list (e.g. 1e-4,1e-2,1), the validation-best kept (default 1e-6,1e-4,1e-2,1).")]
    public string? Ridge { get; init; }

    /// <summary>evolino, esn: washout.</summary>
    [CommandOption("--washout <N>")]
    [Description("evolino, esn: initial steps whose states are left out of the readout fit (default 24 for evolino, 100 for esn).")]
    public string? Washout { get; init; }

    /// <summary>evolino: held-out fraction.</summary>
    [CommandOption("--holdout <F>")]
    [Description("evolino: fraction of the training part, at its end, on which a candidate's fitness is measured (default 0.25).")]
    public string? Holdout { get; init; }

    /// <summary>esn: reservoir density.</summary>
    [CommandOption("--density <D>")]
    [Description("esn: fraction of non-zero reservoir weights, in (0, 1]] (default 0.05).")]
    public string? Density { get; init; }

    /// <summary>esn: spectral radius.</summary>
    [CommandOption("--spectral-radius <RHO>")]
    [Description("esn: spectral radius of the reservoir matrix, > 0 (default 0.95).")]
    public string? SpectralRadius { get; init; }

    /// <summary>esn: input scaling.</summary>
    [CommandOption("--input-scaling <S>")]
    [Description("esn: scale of the input weights, ≥ 0 (default 0.5).")]
    public string? InputScaling { get; init; }

    /// <summary>esn: bias scaling.</summary>
    [CommandOption("--bias-scaling <S>")]
    [Description("esn: scale of the reservoir bias, ≥ 0 (default 0.1).")]
    public string? BiasScaling { get; init; }

    /// <summary>esn: leak rate.</summary>
    [CommandOption("--leak <A>")]
    [Description("esn: leaking rate in (0, 1]] (default 1: a tanh reservoir; below 1 a leaky-integrator reservoir).")]
    public string? Leak { get; init; }

    /// <summary>esn: what the readout reads.</summary>
    [CommandOption("--readout <NAME>")]
    [Description("esn: state-input (the readout over [[state; input; 1]], default) or state (over [[state; 1]]).")]
    public string? Readout { get; init; }
}
