namespace Rnn.Simd.Tests.Architecture;

/// <summary>One row of the layer table: a name, the namespaces it covers and the layers it may import.</summary>
/// <param name="Name">The layer's name, e.g. "Training".</param>
/// <param name="Namespaces">Patterns: "X.*" is X and every namespace under it; "X" alone is X only.</param>
/// <param name="MayImport">Names of layers of earlier rows.</param>
internal sealed record Layer(string Name, IReadOnlyList<string> Namespaces, IReadOnlyList<string> MayImport);

/// <summary>
/// The layers of ARCHITECTURE.md, bottom first, and the check of a set of type references against them. The table
/// is read from the document (its markdown table with the columns Layer, Namespaces, May import), so that the
/// document is the rule.
/// </summary>
internal sealed class LayerTable
{
    private readonly Dictionary<string, Layer> _byName;

    public LayerTable(IReadOnlyList<Layer> layers)
    {
        Layers = layers;
        _byName = layers.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }

    /// <summary>Bottom first.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    public Layer this[string name] => _byName[name];

    /// <summary>Reads the layer table of an ARCHITECTURE.md.</summary>
    public static LayerTable Parse(string markdown)
    {
        var layers = new List<Layer>();
        int layerColumn = -1, namespacesColumn = -1, importColumn = -1;
        foreach (string raw in markdown.Split('\n'))
        {
            string line = raw.Trim();
            if (!line.StartsWith('|')) { if (layers.Count > 0) break; continue; }
            string[] cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (layerColumn < 0)
            {
                layerColumn = Array.IndexOf(cells, "Layer");
                namespacesColumn = Array.IndexOf(cells, "Namespaces");
                importColumn = Array.IndexOf(cells, "May import");
                if (layerColumn < 0 || namespacesColumn < 0 || importColumn < 0) { layerColumn = -1; continue; }
                continue;
            }
            if (cells.All(c => c.Length > 0 && c.All(ch => ch is '-' or ':'))) continue; // the separator row
            string[] namespaces = cells[namespacesColumn].Split(',').Select(n => n.Trim().Trim('`')).Where(n => n.Length > 0).ToArray();
            string imports = cells[importColumn];
            string[] mayImport = imports switch
            {
                "—" or "-" => [],
                "all the above" => layers.Select(l => l.Name).ToArray(),
                _ => imports.Split(',').Select(n => n.Trim()).ToArray(),
            };
            layers.Add(new Layer(cells[layerColumn], namespaces, mayImport));
        }
        if (layers.Count == 0) throw new InvalidDataException("ARCHITECTURE.md has no table with the columns Layer, Namespaces and May import.");
        return new LayerTable(layers);
    }

    /// <summary>Problems of the table itself: a layer that may import itself, a later layer or an unknown one; a namespace in two layers.</summary>
    public IReadOnlyList<string> TableProblems()
    {
        var problems = new List<string>();
        for (int i = 0; i < Layers.Count; i++)
        {
            foreach (string name in Layers[i].MayImport)
            {
                int j = Layers.ToList().FindIndex(l => l.Name == name);
                if (j < 0) problems.Add($"{Layers[i].Name} may import '{name}', which is no layer of the table");
                else if (j >= i) problems.Add($"{Layers[i].Name} may import {name}, which is not below it (row {j + 1} of {Layers.Count}): the table must list only lower layers, so that no cycle is possible");
            }
        }
        foreach (var group in Layers.SelectMany(l => l.Namespaces.Select(n => (Pattern: n, Layer: l.Name))).GroupBy(x => x.Pattern).Where(g => g.Count() > 1))
            problems.Add($"namespace {group.Key} is in {string.Join(" and ", group.Select(x => x.Layer))}");
        return problems;
    }

    /// <summary>The layer a namespace belongs to (the most specific pattern that covers it), or null.</summary>
    public Layer? LayerOf(string ns)
    {
        Layer? best = null;
        int bestLength = -1;
        foreach (Layer layer in Layers)
        {
            foreach (string pattern in layer.Namespaces)
            {
                bool covers = pattern.EndsWith(".*", StringComparison.Ordinal)
                    ? ns == pattern[..^2] || ns.StartsWith(pattern[..^1], StringComparison.Ordinal)
                    : ns == pattern;
                if (covers && pattern.Length > bestLength) (best, bestLength) = (layer, pattern.Length);
            }
        }
        return best;
    }

    /// <summary>
    /// Every reference from one layer to a layer its row does not list, one entry per (source type, target type) with
    /// the first place it occurs and how many more there are; sorted.
    /// </summary>
    public IReadOnlyList<Violation> Violations(IEnumerable<TypeReference> references)
    {
        var list = new List<Violation>();
        foreach (var pair in references.GroupBy(r => (r.Source, r.Target)))
        {
            TypeReference r = pair.First();
            Layer? from = LayerOf(r.SourceNamespace), to = LayerOf(r.TargetNamespace);
            if (from is null || to is null || from == to || from.MayImport.Contains(to.Name)) continue;
            list.Add(new Violation(from.Name, to.Name, r.Source, r.Target, r.Via, pair.Count() - 1));
        }
        list.Sort((a, b) => StringComparer.Ordinal.Compare(a.ToString(), b.ToString()));
        return list;
    }
}

/// <summary>A reference the layer table does not allow.</summary>
internal sealed record Violation(string FromLayer, string ToLayer, string Source, string Target, string FirstPlace, int MorePlaces)
{
    public override string ToString() =>
        $"{FromLayer} -> {ToLayer}: {Source} references {Target} ({FirstPlace}{(MorePlaces > 0 ? $", and {MorePlaces} more place(s)" : "")})";
}
