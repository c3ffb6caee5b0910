using Coderd.Database.Migrations;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The specification's structural facts (<c>coderd-schema.json</c>, vendored into this project as
/// an embedded resource): every type, sequence, table, view and function signature of the coderd
/// schema, as a <see cref="SchemaSnapshot"/>.
/// </summary>
internal static class Spec
{
    private const string Resource = "coderd-schema.json";

    /// <summary>The file's text as vendored.</summary>
    public static string Json { get; } = ReadResource();

    public static SchemaSnapshot Snapshot { get; } = SchemaSnapshot.Parse(Json);

    /// <summary>Every CHECK constraint of the spec with its table.</summary>
    public static IReadOnlyList<(string Table, string Name)> Checks { get; } =
        Snapshot.Facts.Tables.SelectMany(t => t.Constraints.Where(c => c.Type == "c").Select(c => (t.Name, c.Name))).ToList();

    private static string ReadResource()
    {
        using var stream = typeof(Spec).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The test assembly has no embedded {Resource}; see Coderd.Database.Tests.csproj.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
