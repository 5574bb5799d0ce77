namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>
/// Lets a benchmark class say how much work one invocation of each of its methods does, so that
/// <see cref="ThroughputColumn"/> can turn the measured mean into GFLOP/s or GB/s, and lets it drop cases that should
/// not run (a naive O(n³) loop at n = 1024).
/// </summary>
/// <remarks>
/// The column and the filter create a fresh instance of the class with its [Params] / [ParamsSource] members set
/// (no [GlobalSetup]), so the members below must depend on the parameters only.
/// </remarks>
public interface IWorkload
{
    /// <summary>Floating-point operations in one invocation of the method (an FMA counts 2); 0 when not meaningful.</summary>
    double Flops(string method);

    /// <summary>Bytes read plus bytes written by one invocation (compulsory traffic); 0 when not meaningful.</summary>
    double Bytes(string method);

    /// <summary>False drops this (method, parameters) case before it runs.</summary>
    bool Include(string method) => true;
}
