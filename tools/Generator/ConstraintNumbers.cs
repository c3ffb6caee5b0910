using System.Globalization;
using System.Text;

namespace Coderd.Database.Generator;

/// <summary>One line of the numbers manifest: the number <paramref name="SqlName"/> has in <paramref name="Enum"/>, for good.</summary>
/// <param name="Enum">The generated enum, e.g. <c>CheckConstraint</c>.</param>
/// <param name="Number">The member's numeric value.</param>
/// <param name="SqlName">The constraint's SQL name.</param>
/// <param name="Removed">The schema no longer has it: the enum has no such member and the number stays reserved.</param>
internal sealed record ConstraintNumber(string Enum, int Number, string SqlName, bool Removed);

/// <summary>
/// The committed, append-only manifest of the generated enums' member numbers. C# compiles a
/// member's number into the code that uses it, so a number must never change meaning: a SQL name
/// keeps the number it was first given, a new name takes the next number its enum never used, and
/// a name the schema dropped stays in the manifest, marked removed, so its number is never reused.
/// </summary>
/// <remarks>
/// Lines are <c>enum &lt;TAB&gt; number &lt;TAB&gt; SQL name [&lt;TAB&gt; removed]</c>, sorted by enum
/// (ordinal) then number, after <c>#</c> comment lines.
/// </remarks>
internal static class ConstraintNumbers
{
    /// <summary>The manifest, relative to the repository root, with '/' separators.</summary>
    public const string File = ConstraintFileRenderer.Folder + "/constraint-numbers.tsv";

    private const string RemovedMark = "removed";

    private static readonly string Header =
        $"""
        # Numbers of the generated constraint enums' members: enum <TAB> number <TAB> SQL name [<TAB> {RemovedMark}].
        # Append-only, kept by `{ConstraintFileRenderer.Command}`: a SQL name keeps its number for good, a new name
        # takes its enum's next unused number, and a name the schema dropped stays here, marked {RemovedMark}, so its
        # number is never given to another. Never edit or delete a line: compiled callers hold these numbers.

        """;

    /// <summary>Reads a manifest; null or empty text (no manifest yet) gives no entries.</summary>
    /// <exception cref="InvalidOperationException">A line is malformed, a name or number appears twice in one enum, or an enum's numbers are not 0 to n-1.</exception>
    public static IReadOnlyList<ConstraintNumber> Parse(string? text)
    {
        var entries = new List<ConstraintNumber>();
        if (string.IsNullOrEmpty(text)) return entries;

        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split('\t');
            if (fields.Length is < 3 or > 4
                || fields[0].Length == 0 || fields[2].Length == 0
                || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                || (fields.Length == 4 && fields[3] != RemovedMark))
            {
                throw Broken($"line {i + 1} is not 'enum <TAB> number <TAB> SQL name [<TAB> {RemovedMark}]'");
            }

            entries.Add(new ConstraintNumber(fields[0], number, fields[2], fields.Length == 4));
        }

        foreach (var byEnum in entries.GroupBy(e => e.Enum, StringComparer.Ordinal))
        {
            if (byEnum.GroupBy(e => e.SqlName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } name)
            {
                throw Broken($"{byEnum.Key} lists '{name.Key}' twice");
            }

            if (byEnum.GroupBy(e => e.Number).FirstOrDefault(g => g.Count() > 1) is { } number)
            {
                throw Broken($"{byEnum.Key} gives the number {number.Key} to both '{string.Join("' and '", number.Select(e => e.SqlName))}'");
            }

            // Numbers are handed out one after another and never dropped: a gap is a deleted line.
            if (byEnum.Max(e => e.Number) != byEnum.Count() - 1)
            {
                throw Broken($"{byEnum.Key} skips a number between 0 and {byEnum.Max(e => e.Number)} (a line was deleted)");
            }
        }

        return entries;
    }

    /// <summary>
    /// The entries of <paramref name="enumName"/> once its members are exactly <paramref name="sqlNames"/>:
    /// known names keep their numbers (a removed one that is back gets its old number again), new
    /// names take the next unused numbers in ordinal order of name, and names no longer present are
    /// marked removed. Sorted by number.
    /// </summary>
    public static IReadOnlyList<ConstraintNumber> Assign(IEnumerable<ConstraintNumber> manifest, string enumName, IEnumerable<string> sqlNames)
    {
        var present = sqlNames.ToHashSet(StringComparer.Ordinal);
        var known = manifest.Where(e => e.Enum == enumName).ToList();
        var result = known.Select(e => e with { Removed = !present.Contains(e.SqlName) }).ToList();
        var next = known.Count == 0 ? 0 : known.Max(e => e.Number) + 1;
        var knownNames = known.Select(e => e.SqlName).ToHashSet(StringComparer.Ordinal);
        foreach (var name in present.Where(n => !knownNames.Contains(n)).Order(StringComparer.Ordinal))
        {
            result.Add(new ConstraintNumber(enumName, next++, name, Removed: false));
        }

        return result.OrderBy(e => e.Number).ToList();
    }

    /// <summary>The manifest text: the header, then the entries sorted by enum (ordinal) and number.</summary>
    public static string Render(IEnumerable<ConstraintNumber> entries)
    {
        var text = new StringBuilder(Header);
        foreach (var e in entries.OrderBy(e => e.Enum, StringComparer.Ordinal).ThenBy(e => e.Number))
        {
            text.Append(CultureInfo.InvariantCulture, $"{e.Enum}\t{e.Number}\t{e.SqlName}");
            if (e.Removed) text.Append('\t').Append(RemovedMark);
            text.Append('\n');
        }

        return text.ToString();
    }

    private static InvalidOperationException Broken(string what) =>
        new($"{File}: {what}; restore the file from version control (it is append-only) and run `{ConstraintFileRenderer.Command}` again.");
}
