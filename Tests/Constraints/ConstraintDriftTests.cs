using Coderd.Database.Constraints;
using Coderd.Database.Generator;
using Coderd.Database.Migrations;
using Coderd.Database.Server;
using Coderd.Database.Tests.Support;

namespace Coderd.Database.Tests.Constraints;

/// <summary>
/// The committed generated files match a freshly migrated database (a copy of the run's migrated
/// template). When one fails, the schema changed without regenerating: run the command in the
/// message and commit the result.
/// </summary>
public sealed class ConstraintDriftTests(MigratedDatabase database, PostgresFixture postgres) : IClassFixture<MigratedDatabase>
{
    private const string Fix = $"Run `{ConstraintGenerator.Command}` and commit the result.";

    [Fact]
    public async Task EnumsHaveExactlyTheConstraintsOfTheCatalog()
    {
        await using var connection = await database.OpenAsync();
        var rows = await CatalogQuery.ReadAsync(connection, TestContext.Current.CancellationToken);

        AssertSame("CheckConstraint", rows.Where(r => r.Kind == CatalogKind.Check),
            Enum.GetValues<CheckConstraint>().Select(c => (c.SqlName(), c.TableName())));
        AssertSame("UniqueConstraint", rows.Where(r => r.Kind is CatalogKind.PrimaryKey or CatalogKind.Unique or CatalogKind.UniqueIndex),
            Enum.GetValues<UniqueConstraint>().Select(c => (c.SqlName(), c.TableName())));
        AssertSame("ForeignKeyConstraint", rows.Where(r => r.Kind == CatalogKind.ForeignKey),
            Enum.GetValues<ForeignKeyConstraint>().Select(c => (c.SqlName(), c.TableName())));
        Assert.DoesNotContain(rows, r => r.Table == SchemaMigrator.VersionTable);
    }

    [Fact]
    public async Task GeneratedEnumFilesAndNumbersMatchTheCatalogByteForByte()
    {
        var rendered = await ConstraintGenerator.RenderAsync(database.ConnectionString, RepositoryRoot.Path, TestContext.Current.CancellationToken);

        foreach (var (relativePath, text) in rendered)
        {
            var path = Path.Combine(RepositoryRoot.Path, relativePath);
            Assert.True(File.Exists(path), $"{relativePath} is missing. {Fix}");
            var committed = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
            Assert.True(GeneratedFiles.ToBytes(text).AsSpan().SequenceEqual(committed), $"{relativePath} differs from the migrated schema. {Fix}");
        }
    }

    [Fact]
    public async Task SchemaDumpMatchesAFreshDumpByteForByte()
    {
        postgres.SkipUnlessPgDump();
        var fresh = await postgres.Server.DumpAsync(database.ConnectionString, ConstraintGenerator.Command, TestContext.Current.CancellationToken);
        var path = Path.Combine(RepositoryRoot.Path, SchemaDump.FileName);

        Assert.True(File.Exists(path), $"{SchemaDump.FileName} is missing. {Fix}");
        var committed = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        Assert.True(GeneratedFiles.ToBytes(fresh).AsSpan().SequenceEqual(committed),
            $"{SchemaDump.FileName} differs from a dump of the migrated schema: {SchemaDump.FirstDifference(System.Text.Encoding.UTF8.GetString(committed), fresh)}. {Fix}");
    }

    [Fact]
    public async Task SchemaSnapshotFileMatchesTheMigratedSchemaByteForByte()
    {
        var fresh = await SchemaAssert.SnapshotAsync(database.ConnectionString);
        var path = Path.Combine(RepositoryRoot.Path, ConstraintGenerator.SnapshotFile);

        Assert.True(File.Exists(path), $"{ConstraintGenerator.SnapshotFile} is missing. {Fix}");
        var committed = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        var differences = SchemaSnapshot.Compare(SchemaSnapshot.Parse(System.Text.Encoding.UTF8.GetString(committed)), fresh);
        SchemaAssert.Empty(differences, $"{ConstraintGenerator.SnapshotFile} differs from the migrated schema ({Fix})");
        Assert.True(GeneratedFiles.ToBytes(ConstraintGenerator.RenderSnapshot(fresh)).AsSpan().SequenceEqual(committed),
            $"{ConstraintGenerator.SnapshotFile} has the migrated schema's facts but not the generator's bytes. {Fix}");
    }

    [Fact]
    public async Task EmbeddedSnapshotIsTheCommittedFile()
    {
        var path = Path.Combine(RepositoryRoot.Path, ConstraintGenerator.SnapshotFile);

        var committed = SchemaSnapshot.Parse(await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));

        SchemaAssert.Same(committed, SchemaSnapshot.Latest);
    }

    private static void AssertSame(string enumName, IEnumerable<CatalogConstraint> catalog, IEnumerable<(string Name, string Table)> members)
    {
        var inCatalog = catalog.Select(r => (r.Name, r.Table)).ToHashSet();
        var inEnum = members.ToHashSet();
        var missing = inCatalog.Except(inEnum).Select(x => $"{x.Name} ({x.Table})").Order(StringComparer.Ordinal).ToList();
        var extra = inEnum.Except(inCatalog).Select(x => $"{x.Name} ({x.Table})").Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, $"{enumName} lacks {string.Join(", ", missing)}, which the migrated schema has. {Fix}");
        Assert.True(extra.Count == 0, $"{enumName} has {string.Join(", ", extra)}, which the migrated schema does not. {Fix}");
    }
}
