using System.Reflection;
using BenchmarkDotNet.Running;

namespace Rnn.Simd.Benchmarks.Infrastructure;

/// <summary>Builds an instance of a benchmark case's class with the case's parameters set.</summary>
internal static class WorkloadReflection
{
    public static IWorkload? Create(BenchmarkCase benchmarkCase)
        => typeof(IWorkload).IsAssignableFrom(benchmarkCase.Descriptor.Type) ? (IWorkload)CreateInstance(benchmarkCase) : null;

    /// <summary>A new instance of the case's class with its [Params] / [ParamsSource] members set; no setup run.</summary>
    public static object CreateInstance(BenchmarkCase benchmarkCase)
    {
        Type type = benchmarkCase.Descriptor.Type;
        object instance = Activator.CreateInstance(type)!;
        const BindingFlags flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            if (parameter.IsArgument) continue;
            if (type.GetProperty(parameter.Name, flags) is { CanWrite: true } property)
                property.SetValue(instance, parameter.Value);
            else
                type.GetField(parameter.Name, flags)?.SetValue(instance, parameter.Value);
        }
        return instance;
    }

    public static string Method(BenchmarkCase benchmarkCase) => benchmarkCase.Descriptor.WorkloadMethod.Name;
}
