using Coderd.Database.Constraints;
using Coderd.Database.Generator;
using Coderd.Database.Migrations;
using Coderd.Database.Server;

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
    public async Task GeneratedEnumFilesMatchTheCatalogByteForByte()
    {
        var rendered = await ConstraintGenerator.RenderAsync(database.ConnectionString, TestContext.Current.CancellationToken);

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
        var fresh = await SchemaDump.DumpAsync(database.ConnectionString, ConstraintGenerator.Command, postgres.Server, TestContext.Current.CancellationToken);
        var path = Path.Combine(RepositoryRoot.Path, ConstraintGenerator.SchemaDumpFile);

        Assert.True(File.Exists(path), $"{ConstraintGenerator.SchemaDumpFile} is missing. {Fix}");
        var committed = await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken);
        Assert.True(GeneratedFiles.ToBytes(fresh).AsSpan().SequenceEqual(committed),
            $"{ConstraintGenerator.SchemaDumpFile} differs from a dump of the migrated schema{FirstDifference(fresh, committed)}. {Fix}");
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

    private static string FirstDifference(string fresh, byte[] committed)
    {
        var freshLines = fresh.Split('\n');
        var committedLines = System.Text.Encoding.UTF8.GetString(committed).Split('\n');
        for (var i = 0; i < Math.Max(freshLines.Length, committedLines.Length); i++)
        {
            var a = i < freshLines.Length ? freshLines[i] : "(end of file)";
            var b = i < committedLines.Length ? committedLines[i] : "(end of file)";
            if (a != b) return $" from line {i + 1}: the schema gives `{Shorten(a)}`, the file has `{Shorten(b)}`";
        }

        return "";
    }

    private static string Shorten(string line) => line.Length <= 120 ? line : line[..117] + "...";
}
