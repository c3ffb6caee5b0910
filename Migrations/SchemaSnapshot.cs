using System.Text;
using Npgsql;

namespace Coderd.Database.Migrations;

/// <summary>
/// The structure of a database's <c>public</c> schema as facts read from its catalog: types (enums
/// with their labels in order, composite types with their fields, domains with their base type),
/// sequences, tables (columns in order with type, NOT NULL, default and generation expression;
/// constraints, the indexes that back no constraint, and triggers, each with the text PostgreSQL
/// renders for it), views (columns in order) and function signatures. The runner's
/// <c>schema_version</c> table and objects that belong to an extension are left out.
/// </summary>
/// <remarks>
/// Texts are rendered in a session with <c>search_path = pg_catalog, public</c> and
/// <c>TimeZone = UTC</c>, so names in <c>public</c> carry no schema prefix, and the differences
/// between PostgreSQL 13 and 18 are normalized (18's NOT NULL constraint rows are not constraints
/// here): the same schema gives the same snapshot on every major. The JSON form is the shape of
/// the coderd schema specification (<c>coderd-schema.json</c>), one fact per line.
/// </remarks>
public sealed class SchemaSnapshot
{
    /// <summary>The embedded snapshot of this build, written by the generator next to this file.</summary>
    internal const string LatestResource = "Coderd.Database.Migrations.schema-snapshot.json";

    private static readonly Lazy<SchemaSnapshot> LatestSnapshot = new(LoadLatest);

    internal SchemaSnapshot(SnapshotFacts facts) => Facts = facts;

    /// <summary>
    /// The snapshot of a database that this build's migrations brought to their newest version,
    /// made when the build was generated and shipped inside this assembly.
    /// </summary>
    public static SchemaSnapshot Latest => LatestSnapshot.Value;

    internal SnapshotFacts Facts { get; }

    /// <summary>Reads the snapshot of the database behind <paramref name="connectionString"/>, in one read-only transaction.</summary>
    /// <param name="connectionString">An Npgsql connection string (keyword form).</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <exception cref="NpgsqlException">The database cannot be reached or read.</exception>
    public static async Task<SchemaSnapshot> ReadAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Enlist = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return await ReadAsync(connection, cancellationToken);
    }

    /// <summary>Reads the snapshot through an open connection that is in no transaction.</summary>
    internal static async Task<SchemaSnapshot> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        new(await SnapshotReader.ReadAsync(connection, cancellationToken));

    /// <summary>Reads a snapshot from its JSON form (what <see cref="ToJson()"/> writes, or the specification's file).</summary>
    /// <exception cref="FormatException"><paramref name="json"/> is not a snapshot.</exception>
    public static SchemaSnapshot Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return new(SnapshotJson.Parse(json));
    }

    /// <summary>The JSON form: indented, one fact (column, constraint, index, ...) per line, LF line ends, a final newline.</summary>
    public string ToJson() => SnapshotJson.Write(Facts with { About = null });

    /// <summary>The JSON form with an <c>about</c> member first, saying what made the file.</summary>
    public string ToJson(string about) => SnapshotJson.Write(Facts with { About = about });

    /// <summary>
    /// Every difference between two snapshots, in a fixed order: types, sequences, tables, views,
    /// functions, each by name (ordinal), and within a table its columns (in expected order), then
    /// column order, constraints, indexes and triggers. Empty when the schemas are the same.
    /// </summary>
    /// <param name="expected">What the schema should be.</param>
    /// <param name="found">What the schema is.</param>
    public static IReadOnlyList<SchemaDifference> Compare(SchemaSnapshot expected, SchemaSnapshot found)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(found);
        return SnapshotComparer.Compare(expected.Facts, found.Facts);
    }

    private static SchemaSnapshot LoadLatest()
    {
        using var stream = typeof(SchemaSnapshot).Assembly.GetManifestResourceStream(LatestResource)
            ?? throw new InvalidOperationException($"This build has no embedded {LatestResource}; rebuild it from a checkout where the generator has run.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd());
    }
}

/// <summary>One way two schemas differ.</summary>
/// <param name="Path">The object and the fact, from the outside in: <c>table users / column email / default</c>.</param>
/// <param name="Expected">The fact as it should be; null when the object should not exist.</param>
/// <param name="Found">The fact as it is; null when the object does not exist.</param>
public sealed record SchemaDifference(string Path, string? Expected, string? Found)
{
    /// <summary>One line: <c>path: expected X, found Y</c>, with <c>(none)</c> for an absent object and line breaks shown as <c>\n</c>.</summary>
    public override string ToString() => $"{Path}: expected {Show(Expected)}, found {Show(Found)}";

    private static string Show(string? value) => value is null ? "(none)" : value.Replace("\n", "\\n", StringComparison.Ordinal);
}
