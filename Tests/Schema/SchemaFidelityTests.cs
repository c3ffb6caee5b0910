using System.Text.Json.Nodes;
using Coderd.Database.Constraints;
using Coderd.Database.Migrations;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The snapshot of a database migrated up to the migration the spec describes (the MCP one, not
/// whichever is newest: a later migration changes the schema, not the spec) and its differences
/// from the spec, read once for <see cref="SchemaFidelityTests"/>.
/// </summary>
public sealed class MigratedSnapshot(PostgresFixture postgres) : IAsyncLifetime
{
    internal SchemaSnapshot Snapshot { get; private set; } = null!;

    internal IReadOnlyList<SchemaDifference> Differences { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        var connectionString = await postgres.CreateEmptyDatabaseAsync("coderd_snapshot");
        try
        {
            await new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString }).UpAsync(NamedMigrations.AddMcpServerConfigs);
            Snapshot = await SchemaAssert.SnapshotAsync(connectionString);
        }
        finally
        {
            await postgres.DropDatabaseAsync(connectionString);
        }

        Differences = SchemaSnapshot.Compare(Spec.Snapshot, Snapshot);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// The migrated schema against the spec's facts (<c>coderd-schema.json</c>), object by object: each
/// type, sequence, table (columns in order, constraints, indexes, triggers), view and function
/// signature exactly as specified, and nothing else. A failure names the object and lists each
/// differing fact with the expected and the found value.
/// </summary>
public sealed class SchemaFidelityTests(MigratedSnapshot migrated) : IClassFixture<MigratedSnapshot>
{
    public static TheoryData<string> Types => new(Spec.Snapshot.Facts.Types.Select(t => t.Name));

    public static TheoryData<string> Sequences => new(Spec.Snapshot.Facts.Sequences.Select(s => s.Name));

    public static TheoryData<string> Tables => new(Spec.Snapshot.Facts.Tables.Select(t => t.Name));

    public static TheoryData<string> Views => new(Spec.Snapshot.Facts.Views.Select(v => v.Name));

    public static TheoryData<string> Functions => new(Spec.Snapshot.Facts.Functions.Select(f => $"{f.Name}({f.Args})"));

    [Theory]
    [MemberData(nameof(Types))]
    public void TypeIsAsSpecified(string type) => AssertAsSpecified($"type {type}");

    [Theory]
    [MemberData(nameof(Sequences))]
    public void SequenceIsAsSpecified(string sequence) => AssertAsSpecified($"sequence {sequence}");

    [Theory]
    [MemberData(nameof(Tables))]
    public void TableIsAsSpecified(string table) => AssertAsSpecified($"table {table}");

    [Theory]
    [MemberData(nameof(Views))]
    public void ViewIsAsSpecified(string view) => AssertAsSpecified($"view {view}");

    [Theory]
    [MemberData(nameof(Functions))]
    public void FunctionIsAsSpecified(string function) => AssertAsSpecified($"function {function}");

    [Fact]
    public void NoObjectBeyondTheSpecExists()
    {
        // A whole object the spec lacks is one difference at the top level with nothing expected.
        SchemaAssert.Empty(migrated.Differences.Where(d => d.Expected is null && !d.Path.Contains(" / ", StringComparison.Ordinal)).ToList(),
            "The migrated schema has objects the spec does not");
    }

    [Fact]
    public void NoObjectOfTheSpecIsMissing()
    {
        SchemaAssert.Empty(migrated.Differences.Where(d => d.Found is null && !d.Path.Contains(" / ", StringComparison.Ordinal)).ToList(),
            "The migrated schema lacks objects of the spec");
    }

    [Fact]
    public void SnapshotIsTheSpecFileModuloFormatting()
    {
        var spec = JsonNode.Parse(Spec.Json)!.AsObject();
        spec.Remove("about");

        Assert.True(JsonNode.DeepEquals(spec, JsonNode.Parse(migrated.Snapshot.ToJson())),
            $"The snapshot of the migrated database is not coderd-schema.json; the other tests of {nameof(SchemaFidelityTests)} name the facts.");
    }

    [Fact]
    public void EveryConstraintOfTheSpecIsAMemberOfItsEnum()
    {
        var constraints = Spec.Snapshot.Facts.Tables.SelectMany(t => t.Constraints).ToList();
        var checks = constraints.Where(c => c.Type == "c").Select(c => c.Name).ToList();
        var uniques = constraints.Where(c => c.Type is "p" or "u").Select(c => c.Name)
            .Concat(Spec.Snapshot.Facts.Tables.SelectMany(t => t.Indexes).Where(i => i.Def.StartsWith("CREATE UNIQUE INDEX", StringComparison.Ordinal)).Select(i => i.Name))
            .ToList();
        var foreignKeys = constraints.Where(c => c.Type == "f").Select(c => c.Name).ToList();

        // The change the spec describes generated 26 CHECK, 143 UNIQUE and 123 FOREIGN KEY members.
        Assert.Equal((26, 143, 123), (checks.Count, uniques.Count, foreignKeys.Count));
        Assert.All(checks, name => Assert.True(ConstraintNames.TryParseCheck(name, out _), name));
        Assert.All(uniques, name => Assert.True(ConstraintNames.TryParseUnique(name, out _), name));
        Assert.All(foreignKeys, name => Assert.True(ConstraintNames.TryParseForeignKey(name, out _), name));
    }

    [Fact]
    public void EveryConstraintIsValidated()
    {
        // Spend limit CHECKs are added NOT VALID and validated by the next migration; none may stay unvalidated.
        Assert.Empty(migrated.Snapshot.Facts.Tables.SelectMany(t => t.Constraints)
            .Where(c => c.Def.EndsWith(" NOT VALID", StringComparison.Ordinal)).Select(c => c.Name));
    }

    private void AssertAsSpecified(string objectPath) =>
        SchemaAssert.Empty(
            migrated.Differences.Where(d => d.Path == objectPath || d.Path.StartsWith(objectPath + " / ", StringComparison.Ordinal)).ToList(),
            $"{objectPath} differs from the spec");
}
