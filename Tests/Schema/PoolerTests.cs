using Coderd.Database.Migrations;
using Npgsql;
using static Coderd.Database.Tests.Schema.MigrationDatabases;

namespace Coderd.Database.Tests.Schema;

/// <summary>
/// Racing migrators through a real PgBouncer, in session and in transaction pooling mode. Under a
/// transaction pooler every transaction may run on another server connection, so the runner keeps
/// nothing in the session: the lock is a transaction-level advisory lock taken inside each
/// migration's transaction, the applied versions are re-read under it, and settings are SET LOCAL.
/// Every job must end with success or a documented error, each version be applied once, the
/// history stay a prefix of the versions, and nothing (lock, setting) be left on a server connection.
/// </summary>
public sealed class PoolerTests(PostgresFixture postgres) : IAsyncDisposable
{
    /// <summary>A version in the middle of the history (the last trigger migration), and one well below it.</summary>
    private const long Middle = 2026_02_16_0007, Low = 2026_01_12_0010;

    private readonly MigrationDatabases _databases = new(postgres);

    public ValueTask DisposeAsync() => _databases.DisposeAsync();

    [Theory]
    [InlineData("transaction", 2)]
    [InlineData("session", 20)]
    public async Task RacingUpsApplyEachVersionOnceAndLeaveNothingOnTheServerConnections(string poolMode, int poolSize)
    {
        // Given an empty database behind a PgBouncer (in transaction mode, two server connections for five jobs)
        var (database, _) = await _databases.CreateAsync();
        await using var bouncer = await PgBouncer.StartAsync(database, poolMode, poolSize);
        var pooled = bouncer.Route(database);

        // When five deployment jobs migrate it at once through the pooler
        var jobs = Enumerable.Range(0, 5)
            .Select(_ => Task.Run(() => new SchemaMigrator(new MigratorOptions { ConnectionString = pooled }).UpAsync(cancellationToken: Token)))
            .ToList();
        var results = await Task.WhenAll(jobs);

        // Then all succeeded, each migration was applied by exactly one of them, and the schema is the one this build makes
        Assert.Equal(History.Select(m => m.Version), results.SelectMany(r => r).Select(m => m.Version).Order());
        Assert.Equal(History.Select(m => m.Version), await RecordedAsync(database));
        Assert.True((await new SchemaMigrator(new MigratorOptions { ConnectionString = database }).VerifyAsync(Token)).Matches);
        await AssertNothingLeftBehindAsync(database, bouncer, Math.Min(poolSize, 4));
    }

    [Fact]
    public async Task UpRacingDownThroughATransactionPoolerLeavesAConsistentHistory()
    {
        // Given a database in the middle of the history, behind a transaction pooler
        var (database, direct) = await _databases.CreateAsync();
        await direct.UpAsync(Middle, Token);
        await using var bouncer = await PgBouncer.StartAsync(database, "transaction", poolSize: 2);
        var pooled = new SchemaMigrator(new MigratorOptions { ConnectionString = bouncer.Route(database) });

        for (var round = 0; round < 3; round++)
        {
            // When two ups (to the newest) and a down (to a low version) race
            var outcomes = await Task.WhenAll(
                OutcomeAsync(() => pooled.UpAsync(cancellationToken: Token)),
                OutcomeAsync(() => pooled.DownAsync(Low, Token)),
                OutcomeAsync(() => pooled.UpAsync(cancellationToken: Token)));

            // Then each ended with success or with the documented "history changed" error, and the history is a prefix
            Assert.All(outcomes, error => Assert.True(error is null or MigrationException { Error: MigrationError.HistoryChanged }, error?.ToString()));
            var recorded = await RecordedAsync(database);
            Assert.Equal(History.Select(m => m.Version).Take(recorded.Count), recorded);

            // (and the next round starts in the middle again)
            if (recorded[^1] < Middle) await direct.UpAsync(Middle, Token);
            else await direct.DownAsync(Middle, Token);
        }

        // And nothing is half done: a last up brings the schema to exactly the one this build makes
        await direct.UpAsync(cancellationToken: Token);
        Assert.True((await direct.VerifyAsync(Token)).Matches);
        await AssertNothingLeftBehindAsync(database, bouncer, 2);
    }

    [Fact]
    public async Task UpQueuedInAFullSessionPoolWaitsForAServerConnectionAndAppliesEveryVersionOnce()
    {
        // Given an empty database behind a session pooler with one server connection, which another client holds
        var (database, _) = await _databases.CreateAsync();
        await using var bouncer = await PgBouncer.StartAsync(database, "session", poolSize: 1);
        await using var holder = await OpenAsync(bouncer.Route(database));
        await ExecuteAsync(holder, "SELECT 1");

        // When up starts through the pooler, its command timeout (2 s) shorter than the holder's
        // session, and the holder lets go after 4 s
        var log = new StringWriter();
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = WithCommandTimeout(bouncer.Route(database), 2), Log = TextWriter.Synchronized(log) });
        var up = Task.Run(() => migrator.UpAsync(cancellationToken: Token), Token);
        await Task.WhenAny(up, Task.Delay(TimeSpan.FromSeconds(4), Token));
        await holder.DisposeAsync();
        var applied = await up;

        // Then it waited for the server connection within its lock wait, saying so, and then applied every version once
        Assert.Contains(log.ToString().Split('\n'), line => line.StartsWith("Waiting for a server connection", StringComparison.Ordinal));
        Assert.Equal(History.Select(m => m.Version), applied.Select(m => m.Version));
        Assert.Equal(History.Select(m => m.Version), await RecordedAsync(database));
    }

    [Fact]
    public async Task FullSessionPoolForLongerThanTheLockWaitIsALockWaitTimeoutAndChangesNothing()
    {
        // Given an empty database behind a session pooler whose only server connection another client holds throughout
        var (database, _) = await _databases.CreateAsync();
        await using var bouncer = await PgBouncer.StartAsync(database, "session", poolSize: 1);
        await using var holder = await OpenAsync(bouncer.Route(database));
        await ExecuteAsync(holder, "SELECT 1");

        // When up runs through it, allowed to wait 3 s, with a command timeout of 2 s
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = WithCommandTimeout(bouncer.Route(database), 2), LockWait = TimeSpan.FromSeconds(3) });
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(cancellationToken: Token));

        // Then it gave up as a lock wait (not as a lost server), saying what to do, and nothing was created
        Assert.True(error.Error == MigrationError.LockWaitTimeout, error.ToString());
        Assert.Contains("gave no server connection within 3 s", error.Message, StringComparison.Ordinal);
        await using var direct = await OpenAsync(database);
        Assert.Equal(["true"], await ListAsync(direct, "SELECT (to_regclass('public.schema_version') IS NULL)::text"));
    }

    [Fact]
    public async Task ServerGoneBehindThePoolerIsALostConnectionNotAQueue()
    {
        // Given a session pooler that has served the database (so it logs clients in without a
        // server), in front of a relay to the server, and then the relay cut: a server that is gone
        var (database, _) = await _databases.CreateAsync();
        var server = new NpgsqlConnectionStringBuilder(database);
        await using var relay = new FreezingProxy(server.Host!, server.Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = relay.Port }.ConnectionString;
        await using var bouncer = await PgBouncer.StartAsync(throughRelay, "session", poolSize: 1);
        await using (var warm = await OpenAsync(bouncer.Route(database))) await ExecuteAsync(warm, "SELECT 1");
        relay.Sever();

        // When up runs through the pooler, with a lock wait far longer than its command timeout
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = WithCommandTimeout(bouncer.Route(database), 3), LockWait = TimeSpan.FromSeconds(60) });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<MigrationException>(() => migrator.UpAsync(cancellationToken: Token));

        // Then it is the server gone (exit 3), told within the command timeout (and Npgsql's cancellation), not waited for as a queue
        Assert.True(error.Error is MigrationError.ConnectionLost or MigrationError.ConnectionFailed, error.Message + "\n" + bouncer.LogTail(40));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"Gave up after {watch.Elapsed.TotalSeconds:0.0} s.");
    }

    [Fact]
    public async Task BlockerLookQueuedInAFullSessionPoolHoldsTheMigrationUpForSecondsNotTheCommandTimeout()
    {
        // Given a database before the MCP migration behind a session pooler with one server
        // connection (the migrator's own, so the second session that looks for blockers is queued),
        // and a report holding chats on a direct connection
        var (database, direct) = await _databases.CreateAsync();
        await direct.UpAsync(NamedMigrations.ValidateChatSpendLimits, Token);
        await using var bouncer = await PgBouncer.StartAsync(database, "session", poolSize: 1);
        await using var report = await OpenAsync(new NpgsqlConnectionStringBuilder(database) { ApplicationName = "monthly-report" }.ConnectionString);
        await ExecuteAsync(report, "BEGIN; SELECT count(*) FROM chats");

        // When the MCP migration runs through the pooler (command timeout 30 s), its first attempt
        // times out on the report's lock, and the report ends a second later
        var migrator = new SchemaMigrator(new MigratorOptions { ConnectionString = WithCommandTimeout(bouncer.Route(database), 30), LockTimeout = TimeSpan.FromMilliseconds(300) });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var up = Task.Run(() => migrator.UpAsync(NamedMigrations.AddMcpServerConfigs, Token), Token);
        await Task.WhenAny(up, Task.Delay(TimeSpan.FromSeconds(1), Token));
        await ExecuteAsync(report, "COMMIT");
        var applied = await up;

        // Then the migration is applied, held up by the unanswered look for a few seconds at most,
        // not for the 30 s command timeout
        Assert.Equal(NamedMigrations.AddMcpServerConfigs, Assert.Single(applied).Version);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"Applied after {watch.Elapsed.TotalSeconds:0.0} s.");
    }

    private static string WithCommandTimeout(string connectionString, int seconds) =>
        new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = seconds }.ConnectionString;

    private static async Task<Exception?> OutcomeAsync(Func<Task> job)
    {
        try
        {
            await Task.Run(job);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static async Task<List<long>> RecordedAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        return [.. (await ListAsync(connection, "SELECT version::text FROM public.schema_version ORDER BY version")).Select(long.Parse)];
    }

    /// <summary>
    /// No advisory lock held on the database (asked directly), and, from <paramref name="clients"/>
    /// clients of the pooler that each hold a transaction open (so each gets a server connection of
    /// its own), the default <c>client_connection_check_interval</c> and <c>search_path</c>.
    /// </summary>
    internal static async Task AssertNothingLeftBehindAsync(string database, PgBouncer bouncer, int clients)
    {
        await using (var connection = await OpenAsync(database))
        {
            Assert.Empty(await ListAsync(connection,
                "SELECT pid::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
        }

        var sessions = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < clients; i++)
            {
                var session = await OpenAsync(bouncer.Route(database));
                sessions.Add(session);
                await ExecuteAsync(session, "BEGIN");
                Assert.Equal(["0 | \"$user\", public"], await ListAsync(session,
                    // PostgreSQL 13 has no client_connection_check_interval, so there it cannot be left set.
                    "SELECT coalesce(current_setting('client_connection_check_interval', true), '0') || ' | ' || current_setting('search_path')"));
            }
        }
        finally
        {
            foreach (var session in sessions) await session.DisposeAsync();
        }
    }
}
