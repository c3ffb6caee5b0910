using System.Globalization;

namespace Coderd.Database.Migrations;

/// <summary>
/// Compares two snapshots object by object. Objects are matched by name (a function by its name and
/// arguments), never by position, so one missing table is one difference, not a cascade; columns,
/// fields and labels are also compared in order.
/// </summary>
internal static class SnapshotComparer
{
    private const string Separator = " / ";

    public static IReadOnlyList<SchemaDifference> Compare(SnapshotFacts expected, SnapshotFacts found)
    {
        var differences = new List<SchemaDifference>();
        ByName(differences, "", "type", expected.Types, found.Types, t => t.Name, Describe, CompareType);
        ByName(differences, "", "sequence", expected.Sequences, found.Sequences, s => s.Name, Describe, CompareSequence);
        ByName(differences, "", "table", expected.Tables, found.Tables, t => t.Name, Describe, CompareTable);
        ByName(differences, "", "view", expected.Views, found.Views, v => v.Name, Describe, CompareView);
        ByName(differences, "", "function", expected.Functions, found.Functions, f => $"{f.Name}({f.Args})", Describe, CompareFunction);
        return differences;
    }

    private static void CompareType(List<SchemaDifference> differences, string path, TypeFact expected, TypeFact found)
    {
        Fact(differences, path, "kind", expected.Kind, found.Kind);
        Fact(differences, path, "labels", Join(expected.Labels), Join(found.Labels));
        Fact(differences, path, "base", expected.Base, found.Base);
        InOrder(differences, path, "field", expected.Fields ?? [], found.Fields ?? [], f => f.Name, f => f.Type,
            (d, p, e, f) => Fact(d, p, "type", e.Type, f.Type));
    }

    private static void CompareSequence(List<SchemaDifference> differences, string path, SequenceFact expected, SequenceFact found)
    {
        Fact(differences, path, "type", expected.Type, found.Type);
        Fact(differences, path, "start", Number(expected.Start), Number(found.Start));
        Fact(differences, path, "increment", Number(expected.Increment), Number(found.Increment));
        Fact(differences, path, "owned_by", expected.OwnedBy, found.OwnedBy);
    }

    private static void CompareTable(List<SchemaDifference> differences, string path, TableFact expected, TableFact found)
    {
        InOrder(differences, path, "column", expected.Columns, found.Columns, c => c.Name, Describe, CompareColumn);
        ByName(differences, path, "constraint", expected.Constraints, found.Constraints, c => c.Name, c => c.Def, (d, p, e, f) =>
        {
            if (e.Def != f.Def) d.Add(new SchemaDifference(p, e.Def, f.Def));
            else Fact(d, p, "type", e.Type, f.Type);
        });
        ByName(differences, path, "index", expected.Indexes, found.Indexes, i => i.Name, i => i.Def, CompareDefinition);
        ByName(differences, path, "trigger", expected.Triggers, found.Triggers, t => t.Name, t => t.Def, CompareDefinition);
    }

    private static void CompareColumn(List<SchemaDifference> differences, string path, ColumnFact expected, ColumnFact found)
    {
        Fact(differences, path, "type", expected.Type, found.Type);
        Fact(differences, path, "not_null", expected.NotNull ? "true" : "false", found.NotNull ? "true" : "false");
        Fact(differences, path, "default", expected.Default, found.Default);
        Fact(differences, path, "generated", expected.Generated, found.Generated);
    }

    private static void CompareDefinition(List<SchemaDifference> differences, string path, DefinitionFact expected, DefinitionFact found)
    {
        if (expected.Def != found.Def) differences.Add(new SchemaDifference(path, expected.Def, found.Def));
    }

    private static void CompareView(List<SchemaDifference> differences, string path, ViewFact expected, ViewFact found)
    {
        Fact(differences, path, "kind", expected.Kind, found.Kind);
        InOrder(differences, path, "column", expected.Columns, found.Columns, c => c.Name, c => c.Type,
            (d, p, e, f) => Fact(d, p, "type", e.Type, f.Type));
    }

    private static void CompareFunction(List<SchemaDifference> differences, string path, FunctionFact expected, FunctionFact found)
    {
        Fact(differences, path, "result", expected.Result, found.Result);
        Fact(differences, path, "language", expected.Language, found.Language);
        Fact(differences, path, "volatility", expected.Volatility, found.Volatility);
    }

    /// <summary>Objects matched by key, in ordinal key order: missing ones, extra ones, and the differences inside the others.</summary>
    private static void ByName<T>(
        List<SchemaDifference> differences, string parent, string kind, IReadOnlyList<T> expected, IReadOnlyList<T> found,
        Func<T, string> key, Func<T, string> describe, Action<List<SchemaDifference>, string, T, T> compare)
    {
        var want = Index(expected, key);
        var have = Index(found, key);
        foreach (var name in want.Keys.Union(have.Keys).Order(StringComparer.Ordinal))
        {
            var path = Child(parent, $"{kind} {name}");
            var inWant = want.TryGetValue(name, out var e);
            var inHave = have.TryGetValue(name, out var f);
            if (!inHave) differences.Add(new SchemaDifference(path, describe(e!), null));
            else if (!inWant) differences.Add(new SchemaDifference(path, null, describe(f!)));
            else compare(differences, path, e!, f!);
        }
    }

    /// <summary>
    /// Members matched by name, in expected order, then the extra ones in found order; and, when the
    /// members both sides have come in another order, one difference for the order.
    /// </summary>
    private static void InOrder<T>(
        List<SchemaDifference> differences, string parent, string kind, IReadOnlyList<T> expected, IReadOnlyList<T> found,
        Func<T, string> key, Func<T, string> describe, Action<List<SchemaDifference>, string, T, T> compare)
    {
        var want = Index(expected, key);
        var have = Index(found, key);
        foreach (var member in expected)
        {
            var path = Child(parent, $"{kind} {key(member)}");
            if (have.TryGetValue(key(member), out var other)) compare(differences, path, member, other);
            else differences.Add(new SchemaDifference(path, describe(member), null));
        }

        foreach (var member in found.Where(m => !want.ContainsKey(key(m))))
        {
            differences.Add(new SchemaDifference(Child(parent, $"{kind} {key(member)}"), null, describe(member)));
        }

        var wantOrder = expected.Select(key).Where(have.ContainsKey);
        var haveOrder = found.Select(key).Where(want.ContainsKey);
        if (!wantOrder.SequenceEqual(haveOrder, StringComparer.Ordinal))
        {
            differences.Add(new SchemaDifference(Child(parent, $"{kind} order"), string.Join(", ", expected.Select(key)), string.Join(", ", found.Select(key))));
        }
    }

    private static void Fact(List<SchemaDifference> differences, string path, string fact, string? expected, string? found)
    {
        if (!string.Equals(expected, found, StringComparison.Ordinal)) differences.Add(new SchemaDifference(Child(path, fact), expected, found));
    }

    /// <summary>By key; a key given twice (only possible in a hand-edited file) counts once, first wins.</summary>
    private static Dictionary<string, T> Index<T>(IReadOnlyList<T> items, Func<T, string> key)
    {
        var index = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        foreach (var item in items) index.TryAdd(key(item), item);
        return index;
    }

    private static string Child(string parent, string name) => parent.Length == 0 ? name : parent + Separator + name;

    private static string? Join(IReadOnlyList<string>? values) => values is null ? null : string.Join(", ", values);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(TypeFact type) => type.Kind switch
    {
        "enum" => string.Create(CultureInfo.InvariantCulture, $"enum of {type.Labels?.Count ?? 0} labels"),
        "composite" => $"composite type ({string.Join(", ", (type.Fields ?? []).Select(f => $"{f.Name} {f.Type}"))})",
        "domain" or "range" => $"{type.Kind} over {type.Base}",
        _ => $"{type.Kind} type",
    };

    private static string Describe(SequenceFact sequence) =>
        $"{sequence.Type} sequence{(sequence.OwnedBy is null ? "" : $" owned by {sequence.OwnedBy}")}";

    private static string Describe(TableFact table) => string.Create(CultureInfo.InvariantCulture, $"table of {table.Columns.Count} columns");

    private static string Describe(ColumnFact column) =>
        column.Type
        + (column.NotNull ? " NOT NULL" : "")
        + (column.Default is null ? "" : $" DEFAULT {column.Default}")
        + (column.Generated is null ? "" : $" GENERATED ALWAYS AS ({column.Generated}) STORED");

    private static string Describe(ViewFact view) =>
        string.Create(CultureInfo.InvariantCulture, $"{(view.Kind == "m" ? "materialized view" : "view")} of {view.Columns.Count} columns");

    private static string Describe(FunctionFact function) =>
        $"{(function.Result is null ? "procedure" : $"returns {function.Result}")}, language {function.Language}, volatility {function.Volatility}";
}
