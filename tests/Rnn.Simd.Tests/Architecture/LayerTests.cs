using System.Reflection;

namespace Rnn.Simd.Tests.Architecture;

/// <summary>
/// The layers of ARCHITECTURE.md hold in the compiled library (issue #10, item 4): every type reference of
/// Rnn.Simd.dll (signatures, bodies, attributes, written with a using or fully qualified) goes from a layer to one its
/// row allows, every namespace has a layer, the table lists only lower layers (so no cycle), the documented chain
/// Kernels → Cells → Network → Training → Forecasting → Persistence → tool is the table's, and the library references
/// neither the tool nor a third-party assembly. No exception list: the table in ARCHITECTURE.md is the whole rule.
/// The checker itself is tested on a fixture of deliberate violations (<c>LayerFixture.cs</c>).
/// </summary>
public class LayerTests
{
    private static readonly string LibraryPath = typeof(Rng).Assembly.Location;

    private static LayerTable Table() =>
        LayerTable.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Architecture", "ARCHITECTURE.md")));

    [Fact]
    public void NoNamespaceOfTheLibrary_ImportsALayerItsRowDoesNotList()
    {
        LayerTable table = Table();
        IReadOnlyList<TypeReference> references = TypeReferenceScanner.Scan(LibraryPath, ns => table.LayerOf(ns) is not null);

        // The scan sees what it must: allowed references of each kind are there (a signature, a body, a base type).
        Assert.Contains(references, r => r.Source == "Rnn.Simd.Training.Trainer`1" && r.Target == "Rnn.Simd.Network.RecurrentNetwork`1");
        Assert.Contains(references, r => r.Source == "Rnn.Simd.Kernels.Gemm" && r.Target == "Rnn.Simd.ThrowHelper" && r.Via.StartsWith("IL of", StringComparison.Ordinal));
        Assert.Contains(references, r => r.Source == "Rnn.Simd.Persistence.TrainingCheckpoint" && r.Target == "Rnn.Simd.Training.TrainerState`1");

        IReadOnlyList<Violation> violations = table.Violations(references);
        Assert.True(violations.Count == 0,
            $"{violations.Count} reference(s) break the layers of ARCHITECTURE.md (a layer may import only the layers its row lists):\n  "
            + string.Join("\n  ", violations));
    }

    [Fact]
    public void EveryTypeOfTheLibrary_IsInANamespaceWithALayer()
    {
        LayerTable table = Table();
        var homeless = new List<string>();
        foreach (DefinedType t in TypeReferenceScanner.DefinedTypes(LibraryPath))
        {
            // Types the compiler emits (<Module>, <PrivateImplementationDetails>, embedded attributes such as
            // System.Runtime.CompilerServices.NullableAttribute) are in no layer and reference none.
            if (t.IsCompilerGenerated && !t.Namespace.StartsWith("Rnn.Simd", StringComparison.Ordinal)) continue;
            Layer? layer = table.LayerOf(t.Namespace);
            if (layer is null) homeless.Add($"{t.Name} (namespace '{t.Namespace}' has no row in ARCHITECTURE.md)");
            else if (layer.Name == "Tool") homeless.Add($"{t.Name} is in the tool's namespace {t.Namespace}, inside the library");
        }
        Assert.True(homeless.Count == 0, "Types outside the layers:\n  " + string.Join("\n  ", homeless));
    }

    [Fact]
    public void TheTable_ListsOnlyLowerLayers_AndIsTheDocumentedChain()
    {
        LayerTable table = Table();
        Assert.Empty(table.TableProblems());

        // Kernels -> Cells -> Network -> Training -> Forecasting -> Persistence -> tool, the root below everything.
        string[] chain = ["Root", "Kernels", "Cells", "Network", "Training", "Forecasting", "Persistence", "Tool"];
        int Row(string name) => table.Layers.ToList().FindIndex(l => l.Name == name);
        foreach (string name in chain) Assert.True(Row(name) >= 0, $"ARCHITECTURE.md has no layer {name}");
        for (int i = 1; i < chain.Length; i++)
        {
            Assert.True(Row(chain[i - 1]) < Row(chain[i]), $"{chain[i - 1]} must be below {chain[i]}");
            Assert.Contains(chain[i - 1], table[chain[i]].MayImport);
        }
        Assert.Empty(table["Root"].MayImport);
        Assert.DoesNotContain("Persistence", table["Forecasting"].MayImport);
        Assert.DoesNotContain("Persistence", table["Training"].MayImport);
        Assert.DoesNotContain("Forecasting", table["Training"].MayImport);
        Assert.All(table.Layers, l => Assert.DoesNotContain("Tool", l.MayImport));
        // The side branches sit where ARCHITECTURE.md says: Diagnostics right above Kernels, used by no library layer;
        // Alternatives and Analysis above Training and below Forecasting; Analysis used by no library layer.
        Assert.True(Row("Kernels") < Row("Diagnostics") && Row("Diagnostics") < Row("Cells"));
        Assert.True(Row("Training") < Row("Alternatives") && Row("Alternatives") < Row("Forecasting"));
        Assert.True(Row("Training") < Row("Analysis") && Row("Analysis") < Row("Forecasting"));
        Assert.All(table.Layers.Where(l => l.Name != "Tool"), l => Assert.DoesNotContain("Diagnostics", l.MayImport));
        Assert.All(table.Layers.Where(l => l.Name != "Tool"), l => Assert.DoesNotContain("Analysis", l.MayImport));

        Assert.Equal("Root", table.LayerOf("Rnn.Simd")?.Name);
        Assert.Equal("Kernels", table.LayerOf("Rnn.Simd.Kernels.GemmCore")?.Name);
        Assert.Equal("Training", table.LayerOf("Rnn.Simd.Training.Optimizers")?.Name);
        Assert.Equal("Tool", table.LayerOf("Rnn.Simd.Cli.Commands")?.Name);
        Assert.Null(table.LayerOf("Rnn.Simd.Unplaced"));
        Assert.Null(table.LayerOf("Rnn.SimdX"));
    }

    [Fact]
    public void TheLibrary_ReferencesNeitherTheToolNorAThirdPartyAssembly()
    {
        string tool = typeof(Rnn.Simd.Cli.Program).Assembly.GetName().Name!;
        IReadOnlyList<AssemblyName> references = TypeReferenceScanner.AssemblyReferences(LibraryPath);
        Assert.NotEmpty(references);
        Assert.DoesNotContain(references, r => r.Name == tool);
        // The keys Microsoft signs the .NET libraries with (System.Numerics.Tensors included): anything else is third-party.
        string[] microsoft = ["b77a5c561934e089", "b03f5f7f11d50a3a", "cc7b13ffcd2ddd51", "7cec85d7bea7798e", "31bf3856ad364e35", "adb9793829ddae60"];
        foreach (AssemblyName r in references)
        {
            string token = Convert.ToHexString(r.GetPublicKeyToken() ?? []).ToLowerInvariant();
            Assert.True(microsoft.Contains(token), $"Rnn.Simd references {r.FullName}, not a Microsoft library: the core library takes no third-party dependency");
        }
    }

    [Fact]
    public void TheChecker_CatchesEveryKindOfReference_InTheFixtureOfDeliberateViolations()
    {
        const string Fixture = "Rnn.Simd.Tests.Architecture.Fixture";
        var table = new LayerTable([
            new Layer("Low", [Fixture + ".Low.*"], []),
            new Layer("High", [Fixture + ".High.*"], ["Low"]),
        ]);
        IReadOnlyList<TypeReference> references = TypeReferenceScanner.Scan(typeof(LayerTests).Assembly.Location, ns => ns.StartsWith(Fixture, StringComparison.Ordinal));
        IReadOnlyList<Violation> violations = table.Violations(references);

        string[] expected =
        [
            "ArrayOfGenericField", "Attributed", "BaseType", "Catch", "Constraint`1", "FieldType", "GenericArgument", "Interface",
            "Lambda", "Nested", "Parameter", "StaticCall", "StaticField", "Typeof",
        ];
        Assert.Equal(expected.Select(n => $"{Fixture}.Low.{n}"), violations.Select(v => v.Source).Distinct().Order(StringComparer.Ordinal));
        Assert.All(violations, v => Assert.Equal(("Low", "High"), (v.FromLayer, v.ToLayer)));
        // The allowed direction is seen and not reported; the clean type reports nothing.
        Assert.Contains(references, r => r.Source == $"{Fixture}.High.Thing" && r.Target == $"{Fixture}.Low.Clean");
        Assert.DoesNotContain(violations, v => v.Source.EndsWith(".Clean", StringComparison.Ordinal));
        // A table that allowed Low -> High would report nothing: the violations come from the rule, not from the scan.
        Assert.DoesNotContain(new LayerTable([table["Low"] with { MayImport = ["High"] }, table["High"] with { MayImport = [] }]).Violations(references),
            v => v.FromLayer == "Low");
    }
}
