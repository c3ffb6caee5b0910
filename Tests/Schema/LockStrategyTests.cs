using System.Text;
using Coderd.Database.Migrations;
using Coderd.Database.Tests.Support;
using Npgsql;
using static Coderd.Database.Tests.NamedMigrations;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// The runner's lock strategy against a real blocker: a session whose open transaction has read
/// <c>chats</c>, which the MCP migration (<see cref="AddMcpServerConfigs"/>) must lock. Behaviour
/// only (attempts, names, what is applied); how long writers stall is measured by the bench.
/// </summary>
public sealed class LockStrategyTests(PostgresFixture postgres) : IAsyncDisposable
{
    private const string GaveUp = "gave up after lock_timeout";

    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Fact]
    public async Task BlockedMigrationWaitsWithoutQueueingAndSucceedsOnceTheBlockerEnds()
    {
        // Given a database before the MCP migration and a report holding chats in an open transaction
        var (database, _) = await CreateBeforeMcpAsync();
        await using var report = await HoldChatsAsync(database, "monthly-report");
        var log = new Log();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database, Log = log, LockTimeout = TimeSpan.FromMilliseconds(300) });

        // When the MCP migration runs and its first attempt has given up
        var up = migrator.UpAsync(AddMcpServerConfigs, Token);
        await WaitUntilAsync(() => log.Lines.Any(line => line.Contains(GaveUp, StringComparison.Ordinal)) || up.IsCompleted, "the first attempt to give up");

        // Then it named the report and, while the report's transaction lasts, queues for nothing
        var attempt = Assert.Single(log.Lines, line => line.Contains(GaveUp, StringComparison.Ordinal));
        Assert.Contains($"{AddMcpServerConfigs}: attempt 1 {GaveUp} (300ms) waiting for AccessExclusiveLock on chats", attempt, StringComparison.Ordinal);
        Assert.Contains($"blocked by pid {report.ProcessID} (monthly-report, idle in transaction, transaction open ", attempt, StringComparison.Ordinal);
        for (var look = 0; look < 5; look++)
        {
            Assert.Equal(0L, await ScalarAsync<long>(database, "SELECT count(*) FROM pg_locks WHERE relation = 'chats'::regclass AND NOT granted"));
            await Task.Delay(100, Token);
        }

        Assert.False(up.IsCompleted);

        // And once the report ends, the next attempt applies the migration
        await ExecuteAsync(report, "COMMIT");
        var applied = await up;
        Assert.Equal(AddMcpServerConfigs, Assert.Single(applied).Version);
        Assert.Single(log.Lines, line => line.Contains(GaveUp, StringComparison.Ordinal));
        Assert.True(await ColumnExistsAsync(database, "chats", "mcp_server_ids"));
    }

    [Fact]
    public async Task WithoutWaitingForTheBlockerEveryAttemptGivesUpAtTheLockTimeoutUntilItEnds()
    {
        // Given the same blocker, and a runner that retries on its backoff alone
        var (database, _) = await CreateBeforeMcpAsync();
        await using var report = await HoldChatsAsync(database, "monthly-report");
        var log = new Log();
        var migrator = new SchemaMigrator(new MigratorOptions
        {
            ConnectionString = database,
            Log = log,
            LockTimeout = TimeSpan.FromMilliseconds(100),
            WaitForBlockers = false,
            Backoff = new LockBackoff(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50)),
        });

        // When it has made three attempts, and the blocker then ends
        var up = migrator.UpAsync(AddMcpServerConfigs, Token);
        await WaitUntilAsync(() => log.Lines.Count(line => line.Contains(GaveUp, StringComparison.Ordinal)) >= 3 || up.IsCompleted, "three attempts");
        await ExecuteAsync(report, "COMMIT");
        var applied = await up;

        // Then each attempt ended at the lock timeout, numbered in turn, and the last one applied the migration
        var attempts = log.Lines.Where(line => line.Contains(GaveUp, StringComparison.Ordinal)).ToList();
        Assert.True(attempts.Count >= 3, string.Join('\n', log.Lines));
        Assert.All(attempts.Select((line, i) => (line, i)), a =>
            Assert.Contains($"{AddMcpServerConfigs}: attempt {a.i + 1} {GaveUp} (100ms) waiting for ", a.line, StringComparison.Ordinal));
        Assert.Equal(AddMcpServerConfigs, Assert.Single(applied).Version);
        Assert.True(await ColumnExistsAsync(database, "chats", "mcp_server_ids"));
    }

    [Fact]
    public async Task BlockerOutlastingTheBudgetFailsTheMigrationNamingItAndAppliesNothing()
    {
        // Given a client stuck in a transaction that read chats
        var (database, _) = await CreateBeforeMcpAsync();
        await using var stuck = await HoldChatsAsync(database, "stuck-client");
        var log = new Log();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database, Log = log, LockRetryBudget = TimeSpan.FromSeconds(1) });

        // When the MCP migration runs with a one-second retry budget
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(AddMcpServerConfigs, Token));

        // Then it failed naming the stuck session, never its query, and nothing of the migration is there
        Assert.Equal(MigrationError.MigrationFailed, error.Error);
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.Contains("waiting for AccessExclusiveLock on chats", error.Message, StringComparison.Ordinal);
        Assert.Contains($"blocked by pid {stuck.ProcessID} (stuck-client, idle in transaction, transaction open ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("count(*)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(log.Lines, line => line.Contains(GaveUp, StringComparison.Ordinal));
        await AssertMcpNotAppliedAsync(database);
    }

    [Fact]
    public async Task MigrationThatOptsOutOfRetriesFailsAtItsOwnFirstLockTimeout()
    {
        // Given a blocker on chats, and a migration altering chats with a 150 ms lock timeout and no retries
        var (database, _) = await CreateBeforeMcpAsync();
        await using var report = await HoldChatsAsync(database, "monthly-report");
        var log = new Log();
        var migrator = LockSettingsMigrations.Migrator(new MigratorOptions { ConnectionString = database, Log = log });

        // When it runs, with a retry budget that would allow many attempts
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(cancellationToken: Token));

        // Then it made exactly one attempt, with its own lock timeout, and says it does not retry
        var attempt = Assert.Single(log.Lines, line => line.Contains(GaveUp, StringComparison.Ordinal));
        Assert.Contains($"{LockSettingsMigrations.OwnSettings}: attempt 1 {GaveUp} (150ms)", attempt, StringComparison.Ordinal);
        Assert.Contains("this migration does not retry a lock timeout", error.Message, StringComparison.Ordinal);
        Assert.False(await ColumnExistsAsync(database, "chats", "lock_probe"));
        Assert.DoesNotContain(LockSettingsMigrations.OwnSettings, await VersionsAsync(database));
    }

    [Fact]
    public async Task BlockerOfAnotherRoleIsNamedThoughItsStateAndAgeAreHidden()
    {
        // Given a database owned and migrated by a role that is no superuser, as in production
        await using var database = await RoleDatabase.CreateAsync(postgres, "coderd_owner");
        await new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString }).UpAsync(ValidateChatSpendLimits, Token);

        // And a superuser's session, whose activity that role may not see, holding chats
        await using var blocker = await HoldChatsAsync(database.AdminConnectionString, "dba-console");

        // When the role runs the MCP migration with a short budget
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = database.ConnectionString, LockRetryBudget = TimeSpan.FromSeconds(1) });
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(AddMcpServerConfigs, Token));

        // Then the blocker is named by pid and application, its state and age said to be unknown
        Assert.Contains($"blocked by pid {blocker.ProcessID} (dba-console, state unknown, transaction age unknown)", error.Message, StringComparison.Ordinal);
        await AssertMcpNotAppliedAsync(database.ConnectionString);
    }

    private async Task<(string ConnectionString, SchemaMigrator Migrator)> CreateBeforeMcpAsync()
    {
        var (database, migrator) = await _databases.CreateAsync();
        await migrator.UpAsync(ValidateChatSpendLimits, Token);
        return (database, migrator);
    }

    /// <summary>A session that has read <c>chats</c> in a transaction it leaves open (idle in transaction).</summary>
    private static async Task<NpgsqlConnection> HoldChatsAsync(string connectionString, string applicationName)
    {
        var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName }.ConnectionString);
        await ExecuteAsync(connection, "BEGIN; SELECT count(*) FROM chats");
        return connection;
    }

    private static async Task AssertMcpNotAppliedAsync(string connectionString)
    {
        Assert.DoesNotContain(AddMcpServerConfigs, await VersionsAsync(connectionString));
        Assert.False(await ColumnExistsAsync(connectionString, "chats", "mcp_server_ids"));
        Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM pg_class WHERE relname = 'mcp_server_configs'"));
    }

    private static async Task<List<long>> VersionsAsync(string connectionString)
    {
        await using var connection = await OpenAsync(connectionString);
        return (await ListAsync(connection, "SELECT version::text FROM schema_version")).Select(long.Parse).ToList();
    }

    private static Task<bool> ColumnExistsAsync(string connectionString, string table, string column) =>
        ScalarAsync<bool>(connectionString,
            $"SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attname = '{column}' AND NOT attisdropped)");

    private static Task<T?> ScalarAsync<T>(string connectionString, string sql) => Sql.ScalarAsync<T>(connectionString, sql, Token);

    private static Task WaitUntilAsync(Func<bool> condition, string what) =>
        Cli.CliDatabases.WaitUntilAsync(() => Task.FromResult(condition()), TimeSpan.FromSeconds(60), what);

    /// <summary>The migrator's log, line by line; written from the migrator's task, read from the test's.</summary>
    private sealed class Log : TextWriter
    {
        private readonly List<string> _lines = [];

        public override Encoding Encoding => Encoding.UTF8;

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines) return [.. _lines];
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_lines) _lines.Add(value ?? "");
        }
    }
}
