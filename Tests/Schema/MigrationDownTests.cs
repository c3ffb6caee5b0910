using Coderd.Database.Migrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>Every migration's Down is real: it restores exactly the schema its Up started from.</summary>
public sealed class MigrationDownTests(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly MigrationDatabases _databases = new(postgres);

    public static TheoryData<long> Versions => new(History.Select(m => m.Version));

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task DownRestoresTheSchemaBeforeUp(long version)
    {
        var (connectionString, migrator) = await _databases.CreateAsync();
        var previous = History.Where(m => m.Version < version).Select(m => m.Version).DefaultIfEmpty(0).Max();
        if (previous != 0) await migrator.UpAsync(previous, Token);
        var before = await SchemaAssert.SnapshotAsync(connectionString);

        await migrator.UpAsync(version, Token);
        var after = await SchemaAssert.SnapshotAsync(connectionString);
        await migrator.DownAsync(previous, Token);

        Assert.NotEmpty(SchemaSnapshot.Compare(before, after));
        SchemaAssert.Same(before, await SchemaAssert.SnapshotAsync(connectionString));
        // And the Down left nothing in the way of running the Up again.
        await migrator.UpAsync(version, Token);
        SchemaAssert.Same(after, await SchemaAssert.SnapshotAsync(connectionString));
    }
}
