using Coderd.Database.Migrations;
using Coderd.Database.Tests.Schema;
using Coderd.Database.Tests.Support;
using Npgsql;

namespace Coderd.Database.Tests;

/// <summary>The isolation the fixture promises: migrated copies, separate rows, and a reset to the migrated state.</summary>
public sealed class PostgresFixtureTests(PostgresFixture postgres, MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    /// <summary>The singleton row without its timestamps, which say when it was written.</summary>
    private const string UsageLimitRow = "SELECT (to_jsonb(c) - 'created_at' - 'updated_at')::text FROM chat_usage_limit_config c";

    public async ValueTask InitializeAsync() => await database.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task RunDatabaseAndCopiesAreMigratedToTheLatestVersion()
    {
        foreach (var connectionString in new[] { postgres.ConnectionString, database.ConnectionString })
        {
            var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = connectionString });

            var status = await migrator.StatusAsync(TestContext.Current.CancellationToken);

            Assert.Equal(
                migrator.Migrations.Select(m => (m.Version, true)),
                status.Migrations.Select(m => (m.Version, m.AppliedAt is not null && m.Known)));
        }
    }

    [Fact]
    public async Task ResetDeletesEveryRowButTheVersionsAndRestoresTheUsageLimitRow()
    {
        await using var connection = await database.OpenAsync();
        var migrated = await ScalarAsync<string>(connection, UsageLimitRow);
        var builder = await RowBuilder.CreateAsync(connection);
        await builder.InsertAsync("chats");
        await builder.InsertAsync("mcp_server_configs");
        await builder.ExecuteAsync("UPDATE chat_usage_limit_config SET enabled = true, period = 'day'");

        await database.ResetAsync();

        var versions = MigrationInfo.All.Count;
        Assert.Equal(
            ["chat_usage_limit_config: 1", $"schema_version: {versions}"],
            await RowCountsAsync(connection));
        Assert.Equal(migrated, await ScalarAsync<string>(connection, UsageLimitRow));
        Assert.Contains("\"period\": \"month\"", migrated, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResetRestoresTheUsageLimitRowEvenAfterItWasDeleted()
    {
        await using var connection = await database.OpenAsync();
        var migrated = await ScalarAsync<string>(connection, UsageLimitRow);
        await ScalarAsync<object>(connection, "DELETE FROM chat_usage_limit_config");

        await database.ResetAsync();

        Assert.Equal(migrated, await ScalarAsync<string>(connection, UsageLimitRow));
    }

    [Fact]
    public async Task CopiesDoNotSeeEachOthersRows()
    {
        var other = await postgres.CreateMigratedDatabaseAsync("coderd_other", TestContext.Current.CancellationToken);
        try
        {
            await using var mine = await database.OpenAsync();
            await (await RowBuilder.CreateAsync(mine)).InsertAsync("organizations");
            await using var theirs = new NpgsqlConnection(other);
            await theirs.OpenAsync(TestContext.Current.CancellationToken);

            Assert.Equal(
                (1L, 0L),
                (await ScalarAsync<long>(mine, "SELECT count(*) FROM organizations"), await ScalarAsync<long>(theirs, "SELECT count(*) FROM organizations")));
        }
        finally
        {
            await postgres.DropDatabaseAsync(other);
        }
    }

    /// <summary><c>table: rows</c> for every table of the database that has rows.</summary>
    private static async Task<List<string>> RowCountsAsync(NpgsqlConnection connection)
    {
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY relname", connection))
        await using (var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken))
        {
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) tables.Add(reader.GetString(0));
        }

        var counts = new List<string>();
        foreach (var table in tables)
        {
            var count = await ScalarAsync<long>(connection, $"SELECT count(*) FROM {table}");
            if (count > 0) counts.Add($"{table}: {count}");
        }

        Assert.True(tables.Count > 20, "the database has no schema");
        return counts;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql) =>
        (await Sql.ScalarAsync<T>(connection, sql, TestContext.Current.CancellationToken))!;
}
