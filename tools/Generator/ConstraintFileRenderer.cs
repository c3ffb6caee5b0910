using System.Globalization;
using System.Text;

namespace Coderd.Database.Generator;

/// <summary>Renders the three generated enum files from catalog rows; pure, so testable without a server.</summary>
internal static class ConstraintFileRenderer
{
    /// <summary>The command that regenerates every generated file; printed in headers and by the drift tests.</summary>
    public const string Command = "dotnet run --project tools/Generator";

    /// <summary>Where the enum files live, relative to the repository root, with '/' separators.</summary>
    public const string Folder = "Constraints/Generated";

    private sealed record EnumSpec(string Name, string Kind, string Source, string Summary, Func<CatalogKind, bool> Includes);

    private static readonly EnumSpec[] Enums =
    [
        new("CheckConstraint", "Check", "pg_constraint (CHECK)",
            "Every CHECK constraint of the schema. A violation has SQLSTATE 23514.",
            k => k == CatalogKind.Check),
        new("UniqueConstraint", "Unique", "pg_constraint (PRIMARY KEY, UNIQUE) and pg_index (unique indexes backing no constraint)",
            "Every primary key, UNIQUE constraint and unique index of the schema. A violation has SQLSTATE 23505.",
            k => k is CatalogKind.PrimaryKey or CatalogKind.Unique or CatalogKind.UniqueIndex),
        new("ForeignKeyConstraint", "ForeignKey", "pg_constraint (FOREIGN KEY)",
            "Every foreign key of the schema. A violation has SQLSTATE 23503, or 23001 (restrict_violation) on\n" +
            "PostgreSQL 18 and later when an ON DELETE or ON UPDATE RESTRICT key blocks a delete or key update.",
            k => k == CatalogKind.ForeignKey),
    ];

    /// <summary>
    /// The generated files, keyed by path relative to the repository root: the three enum files and
    /// the numbers manifest (<see cref="ConstraintNumbers.File"/>) extended for them. Rows may come in
    /// any order: each file lists its members sorted by SQL name (ordinal).
    /// </summary>
    /// <param name="rows">The catalog's constraints.</param>
    /// <param name="numbers">The committed manifest's text; null when there is none yet (numbers then start at 0 in SQL name order).</param>
    /// <exception cref="InvalidOperationException">Two rows of one enum share a SQL name or a member name, or the manifest is malformed.</exception>
    /// <exception cref="ArgumentException">A SQL name does not become a C# identifier.</exception>
    public static IReadOnlyDictionary<string, string> Render(IEnumerable<CatalogConstraint> rows, string? numbers)
    {
        var all = rows.ToList();
        var manifest = ConstraintNumbers.Parse(numbers);
        var assigned = new List<ConstraintNumber>();
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in Enums)
        {
            var members = all.Where(r => spec.Includes(r.Kind))
                .OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(r => (Row: r, Member: ConstraintNaming.ToMemberName(r.Name)))
                .ToList();
            RequireUnique(spec.Name, members);
            var entries = ConstraintNumbers.Assign(manifest, spec.Name, members.Select(m => m.Row.Name));
            assigned.AddRange(entries);
            var numberOf = entries.Where(e => !e.Removed).ToDictionary(e => e.SqlName, e => e.Number, StringComparer.Ordinal);
            files[$"{Folder}/{spec.Name}.g.cs"] = RenderEnum(spec, members.Select(m => (m.Row, m.Member, numberOf[m.Row.Name])).ToList(), entries);
        }

        // Entries of an enum this generator no longer writes stay, so their numbers stay taken too.
        assigned.AddRange(manifest.Where(e => !Enums.Any(spec => spec.Name == e.Enum)));
        files[ConstraintNumbers.File] = ConstraintNumbers.Render(assigned);
        return files;
    }

    private static void RequireUnique(string enumName, List<(CatalogConstraint Row, string Member)> members)
    {
        // PostgreSQL scopes CHECK and FOREIGN KEY names to their table, so two tables may reuse one;
        // a violation only reports the name, so the enum could not tell them apart.
        foreach (var group in members.GroupBy(m => m.Row.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            throw new InvalidOperationException(
                $"{enumName}: the name '{group.Key}' is used on tables {string.Join(", ", group.Select(m => m.Row.Table))}; give each constraint its own name in a migration.");
        }

        foreach (var group in members.GroupBy(m => m.Member, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            throw new InvalidOperationException(
                $"{enumName}: '{string.Join("' and '", group.Select(m => m.Row.Name))}' both become the member {group.Key}; rename one in a migration.");
        }
    }

    private static string RenderEnum(
        EnumSpec spec, List<(CatalogConstraint Row, string Member, int Number)> members, IReadOnlyList<ConstraintNumber> entries)
    {
        // Dense index maps: slot n is member number n, null where the number is reserved for a
        // dropped constraint (the manifest has no gaps). A lookup is a bounds check and a load.
        var byNumber = members.ToDictionary(m => m.Number);
        var slots = entries.Count == 0 ? 0 : entries.Max(e => e.Number) + 1;
        var reserved = entries.Where(e => e.Removed).ToDictionary(e => e.Number, e => e.SqlName);
        string Slot(int number, Func<CatalogConstraint, string> value) => byNumber.TryGetValue(number, out var m)
            ? string.Create(CultureInfo.InvariantCulture, $"{Literal(value(m.Row))}, // {number}: {m.Member}")
            : string.Create(CultureInfo.InvariantCulture, $"null, // {number}: reserved, was {reserved[number]}");

        var text = new StringBuilder();
        void Line(string line = "") => text.Append(line).Append('\n');

        Line("// <auto-generated/>");
        Line($"// Made by `{Command}` from {spec.Source} of a freshly migrated database, numbered by {Path.GetFileName(ConstraintNumbers.File)}. Do not edit.");
        Line("#nullable enable");
        Line();
        Line("namespace Coderd.Database.Constraints;");
        Line();
        Line("/// <summary>");
        foreach (var line in spec.Summary.Split('\n')) Line($"/// {line}");
        Line("/// Members are sorted by SQL name. A member's number never changes and is never reused for");
        Line("/// another constraint, so code compiled against an older build asks about the same constraint;");
        Line($"/// to persist a member, store <see cref=\"ConstraintNames.SqlName({spec.Name})\"/>.");
        Line("/// </summary>");
        Line($"public enum {spec.Name}");
        Line("{");
        foreach (var (row, member, number) in members)
        {
            Line($"    /// <summary>{Describe(row)}</summary>");
            Line(string.Create(CultureInfo.InvariantCulture, $"    {member} = {number},"));
        }

        Line("}");
        Line();
        Line("public static partial class ConstraintNames");
        Line("{");
        Line("    // Indexed by member number (a bounds check and a load); null at a number a dropped constraint keeps.");
        Line($"    private static readonly string?[] {spec.Kind}SqlNames =");
        Line("    [");
        for (var n = 0; n < slots; n++) Line("        " + Slot(n, row => row.Name));
        Line("    ];");
        Line();
        Line($"    private static readonly string?[] {spec.Kind}TableNames =");
        Line("    [");
        for (var n = 0; n < slots; n++) Line("        " + Slot(n, row => row.Table));
        Line("    ];");
        Line();
        Line("    /// <summary>The constraint's name in the database: what <c>PostgresException.ConstraintName</c> reports.</summary>");
        Line($"    /// <exception cref=\"ArgumentOutOfRangeException\"><paramref name=\"constraint\"/> is not a member of <see cref=\"{spec.Name}\"/>.</exception>");
        Line($"    public static string SqlName(this {spec.Name} constraint) =>");
        Line($"        SqlNameOrNull(constraint) ?? throw new ArgumentOutOfRangeException(nameof(constraint), constraint, \"Not a member of {spec.Name}.\");");
        Line();
        Line("    /// <summary>The table the constraint belongs to (for a unique index, the table it indexes).</summary>");
        Line($"    /// <exception cref=\"ArgumentOutOfRangeException\"><paramref name=\"constraint\"/> is not a member of <see cref=\"{spec.Name}\"/>.</exception>");
        Line($"    public static string TableName(this {spec.Name} constraint) =>");
        Line($"        ((uint)constraint < (uint){spec.Kind}TableNames.Length ? {spec.Kind}TableNames[(int)constraint] : null)");
        Line($"        ?? throw new ArgumentOutOfRangeException(nameof(constraint), constraint, \"Not a member of {spec.Name}.\");");
        Line();
        Line($"    /// <summary>The <see cref=\"{spec.Name}\"/> member for a SQL name (ordinal, case-sensitive); false for a name this build does not know.</summary>");
        Line($"    public static bool TryParse{spec.Kind}(string? sqlName, out {spec.Name} constraint)");
        Line("    {");
        Line("        // The compiler turns this into a dispatch on length and characters: no allocation.");
        Line("        switch (sqlName)");
        Line("        {");
        foreach (var (row, member, _) in members)
        {
            Line($"            case {Literal(row.Name)}: constraint = {spec.Name}.{member}; return true;");
        }

        Line("            default: constraint = default; return false;");
        Line("        }");
        Line("    }");
        Line();
        Line($"    internal static string? SqlNameOrNull({spec.Name} constraint) =>");
        Line($"        (uint)constraint < (uint){spec.Kind}SqlNames.Length ? {spec.Kind}SqlNames[(int)constraint] : null;");
        Line("}");
        return text.ToString();
    }

    private static string Describe(CatalogConstraint row)
    {
        var what = row.Kind switch
        {
            CatalogKind.Check => "Check on",
            CatalogKind.PrimaryKey => "Primary key of",
            CatalogKind.Unique => "Unique constraint on",
            CatalogKind.UniqueIndex => "Unique index on",
            CatalogKind.ForeignKey => "Foreign key on",
            _ => throw new ArgumentOutOfRangeException(nameof(row), row.Kind, "Unknown catalog kind."),
        };
        return $"{what} {Code(row.Table)}: {Code(row.Definition)}";
    }

    private static string Code(string text) => "<c>" + Xml(OneLine(text)) + "</c>";

    private static string Xml(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Literal(string value)
    {
        var text = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                default:
                    if (char.IsControl(c)) text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else text.Append(c);
                    break;
            }
        }

        return text.Append('"').ToString();
    }
}
