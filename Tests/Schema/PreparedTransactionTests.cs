using Coderd.Database.Migrations;
using Coderd.Database.Tests.Support;
using static Coderd.Database.Tests.NamedMigrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Locks held by a prepared transaction (two-phase commit), which belongs to no session:
/// <c>pg_locks</c> shows it without a pid and <c>pg_blocking_pids</c> as 0. The runner names it by
/// its gid, says how to end it, and waits or gives up as for any holder. The throwaway test
/// clusters allow prepared transactions; a server that does not skips these tests.
/// </summary>
public sealed class PreparedTransactionTests(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task MigrationLockHeldByAPreparedTransactionIsWaitedForAndNamedByItsGid()
    {
        // Given an empty database and a prepared transaction holding the migration lock
        var (database, _) = await _databases.CreateAsync();
        await using var prepared = await PrepareAsync(database, "deploy-2pc", $"SELECT pg_advisory_xact_lock({SchemaMigrator.LockKey})");

        // When up runs, allowed to wait two seconds
        var log = new StringWriter();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database, LockWait = TimeSpan.FromSeconds(2), Log = TextWriter.Synchronized(log) });
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(cancellationToken: Token));

        // Then it waited, reporting the holder on the way, and gave up naming it and how to end it
        const string Expected = "held by the prepared transaction 'deploy-2pc' (prepared ";
        Assert.Equal(MigrationError.LockWaitTimeout, error.Error);
        Assert.Contains(Expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("until COMMIT PREPARED 'deploy-2pc' or ROLLBACK PREPARED 'deploy-2pc'", error.Message, StringComparison.Ordinal);
        Assert.Contains(log.ToString().Split('\n'), line => line.StartsWith("Waiting for the migration lock", StringComparison.Ordinal) && line.Contains(Expected, StringComparison.Ordinal));
        Assert.False(await Sql.ScalarAsync<bool>(database, "SELECT to_regclass('public.schema_version') IS NOT NULL", Token));

        // And once it is rolled back, up migrates
        await prepared.RollBackAsync();
        Assert.Equal(History.Count, (await migrator.UpAsync(cancellationToken: Token)).Count);
    }

    [Fact]
    public async Task MigrationBlockedByAPreparedTransactionNamesItsGidAndAppliesNothing()
    {
        // Given a database before the MCP migration and a prepared transaction that read chats
        var (database, migrator) = await _databases.CreateAsync();
        await migrator.UpAsync(ValidateChatSpendLimits, Token);
        await using var prepared = await PrepareAsync(database, "report's 2pc", "SELECT count(*) FROM chats");

        // When the MCP migration runs with a short retry budget
        var limited = new SchemaMigrator(new MigratorOptions { ConnectionString = database, LockRetryBudget = TimeSpan.FromSeconds(1) });
        var error = await Assert.ThrowsAsync<MigrationException>(() => limited.UpAsync(AddMcpServerConfigs, Token));

        // Then the blocker is the prepared transaction, named by its gid (quoted as SQL takes it), and nothing is applied
        Assert.Equal(MigrationError.MigrationFailed, error.Error);
        Assert.Contains("waiting for AccessExclusiveLock on chats, blocked by the prepared transaction 'report''s 2pc' (prepared ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pid 0", error.Message, StringComparison.Ordinal);
        Assert.False(await Sql.ScalarAsync<bool>(database, "SELECT EXISTS (SELECT FROM schema_version WHERE version = " + AddMcpServerConfigs + ")", Token));

        // And once it is committed, the migration applies
        await prepared.CommitAsync();
        Assert.Equal(AddMcpServerConfigs, Assert.Single(await limited.UpAsync(AddMcpServerConfigs, Token)).Version);
    }

    /// <summary>Runs <paramref name="sql"/> in a transaction prepared as <paramref name="gid"/>; skips the test where the server allows none.</summary>
    private static async Task<PreparedTransaction> PrepareAsync(string database, string gid, string sql)
    {
        await using var connection = await OpenAsync(database);
        Assert.SkipWhen(await Sql.ScalarAsync<int>(connection, "SELECT current_setting('max_prepared_transactions')::int", Token) == 0,
            "The server allows no prepared transactions (max_prepared_transactions = 0); the throwaway test clusters allow them.");
        var literal = "'" + gid.Replace("'", "''", StringComparison.Ordinal) + "'";
        await ExecuteAsync(connection, $"BEGIN; {sql}; PREPARE TRANSACTION {literal}");
        return new PreparedTransaction(database, literal);
    }

    /// <summary>A prepared transaction, rolled back when disposed unless ended before (it would block dropping the database).</summary>
    private sealed class PreparedTransaction(string database, string literal) : IAsyncDisposable
    {
        private bool _ended;

        public Task CommitAsync() => EndAsync("COMMIT PREPARED");

        public Task RollBackAsync() => EndAsync("ROLLBACK PREPARED");

        public async ValueTask DisposeAsync()
        {
            if (!_ended) await EndAsync("ROLLBACK PREPARED");
        }

        private async Task EndAsync(string statement)
        {
            _ended = true;
            await Sql.ExecuteAsync(database, $"{statement} {literal}", Token);
        }
    }
}
