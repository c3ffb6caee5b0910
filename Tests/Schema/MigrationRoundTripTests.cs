using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>The whole history run up, down and up again on an empty database of its own.</summary>
public sealed class MigrationRoundTripTests(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task UpDownUpEndsWithTheSameSchemaAsTheFirstUp()
    {
        var (connectionString, migrator) = await _databases.CreateAsync();

        await migrator.UpAsync(cancellationToken: Token);
        var first = await SchemaAssert.SnapshotAsync(connectionString);
        await migrator.DownAsync(0, Token);
        await migrator.UpAsync(cancellationToken: Token);

        SchemaAssert.Same(first, await SchemaAssert.SnapshotAsync(connectionString));
        Assert.Contains(first.Facts.Tables, t => t.Name == "mcp_server_configs");
    }

    [Fact]
    public async Task DownAllLeavesNothingButTheEmptyVersionTable()
    {
        var (connectionString, migrator) = await _databases.CreateAsync();
        await migrator.UpAsync(cancellationToken: Token);

        await migrator.DownAsync(0, Token);

        await using var connection = await OpenAsync(connectionString);
        Assert.Equal(
            ["index schema_version_pkey", "table schema_version"],
            await ListAsync(connection, """
                SELECT CASE relkind WHEN 'r' THEN 'table ' WHEN 'i' THEN 'index ' ELSE 'relation of kind ' || relkind::text || ' ' END || relname
                FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1
                """));
        Assert.Equal(
            ["schema_version"],
            await ListAsync(connection, "SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typelem = 0 ORDER BY 1"));
        Assert.Empty(await ListAsync(connection, "SELECT version::text FROM schema_version"));
        var left = (await SchemaAssert.SnapshotAsync(connectionString)).Facts;
        Assert.Empty(left.Types.Select(t => t.Name).Concat(left.Sequences.Select(s => s.Name)).Concat(left.Tables.Select(t => t.Name))
            .Concat(left.Views.Select(v => v.Name)).Concat(left.Functions.Select(f => f.Name)));
    }

}
