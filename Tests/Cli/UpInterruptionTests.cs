using Coderd.Database.Tests.Support;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

/// <summary>
/// A migrator stopped in the middle of the MCP migration, while its ALTER of <c>chats</c> waits
/// behind another session's lock (its new tables already created in the same transaction): nothing
/// of it may remain, and the migration lock must be free again.
/// </summary>
public sealed class UpInterruptionTests(PostgresFixture fixture)
{
    [Fact]
    public async Task KilledMidMigrationLeavesNothingHalfAppliedAndTheNextJobGetsTheLock()
    {
        Assert.SkipWhen(fixture.Server.MajorVersion < 14,
            "PostgreSQL 13 has no client_connection_check_interval, so its server does not notice the killed client within a second; the KilledMidMigrationOnPostgres13 and KilledWhileQueueingOnPostgres13 tests pin what 13 does.");

        // Given a migrator killed with SIGKILL while its migration waits (and holds the migration lock)
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");
        await using (var victim = StartMcpMigration(database))
        {
            await WaitForTheMigrationToBlockAsync(database);
            victim.KillHard();
        }

        // Then the server notices the closed connection, rolls the migration back and frees the lock
        await CliDatabases.WaitUntilAsync(async () => await CliDatabases.AdvisoryLocksAsync(database) == 0, TimeSpan.FromSeconds(10), "the killed migrator's lock to be freed");
        Assert.Equal(0L, await CliDatabases.WaitingOnChatsAsync(database));
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);

        // And once the blocker is gone, the next deployment job gets the lock and applies it once
        await Sql.ExecuteAsync(blocker, "COMMIT", TestContext.Current.CancellationToken);
        var next = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-wait", "5");
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Contains($"Applied {AddMcpServerConfigs} ", next.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await CliDatabases.RecordedVersionsAsync(database))[AddMcpServerConfigs]);
    }

    /// <summary>
    /// PostgreSQL 13 has no <c>client_connection_check_interval</c>: a backend whose client died goes
    /// on with what the client had sent until it next has to answer it, once its running statement
    /// ends. Until then it keeps its place in the lock queue and the migration lock. Then, if the
    /// statement succeeded, whatever else was sent runs too: a COMMIT sent in the same round trip
    /// commits the migration whole; without one the backend finds its client gone and rolls back.
    /// Either way nothing is half applied, and the next job finds the migration applied or applies it.
    /// </summary>
    [Fact]
    public async Task KilledMidMigrationOnPostgres13HoldsTheLockUntilItsStatementEndsAndLeavesAllOrNothing()
    {
        Assert.SkipUnless(fixture.Server.MajorVersion == 13,
            "Pins PostgreSQL 13, which has no client_connection_check_interval; on 14 and later the server aborts a killed migrator's statement within a second, which the KilledMidMigration test covers.");

        // Given a migrator killed with SIGKILL while its migration queues for its lock on chats
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");
        await using (var victim = StartMcpMigration(database))
        {
            await WaitForTheMigrationToBlockAsync(database);
            victim.KillHard();
        }

        // When the next deployment job runs while the orphaned backend's statement still waits
        var next = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-wait", "2");

        // Then that backend still queues on chats and holds the migration lock, so the job waits out --lock-wait and exits 4
        Assert.True(next.ExitCode == 4, next.ToString());
        Assert.Contains("held by pid", Assert.Single(next.ErrorLines), StringComparison.Ordinal);
        Assert.Equal((1L, 1L), (await CliDatabases.WaitingOnChatsAsync(database), await CliDatabases.AdvisoryLocksAsync(database)));

        // When the blocking transaction ends, the orphan's ALTER gets its lock and its statements run to their end
        await Sql.ExecuteAsync(blocker, "COMMIT", TestContext.Current.CancellationToken);

        // Then the orphan ends, leaving the whole migration with its version row, or none of it
        await CliDatabases.WaitUntilAsync(async () => await CliDatabases.AdvisoryLocksAsync(database) == 0, TimeSpan.FromSeconds(30), "the orphaned backend to end");
        var tablesLeft = await CliDatabases.TableExistsAsync(database, "mcp_server_configs");
        var versionLeft = (await CliDatabases.RecordedVersionsAsync(database)).ContainsKey(AddMcpServerConfigs);
        Assert.True(tablesLeft == versionLeft, $"The orphan left the migration half applied: its tables {(tablesLeft ? "exist" : "do not exist")}, its version is {(versionLeft ? "" : "not ")}recorded.");

        // And the next job finds it applied or applies it, once
        var retried = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-wait", "5");
        Assert.True(retried.ExitCode == 0, retried.ToString());
        Assert.Equal(1, (await CliDatabases.RecordedVersionsAsync(database))[AddMcpServerConfigs]);
        Assert.True(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
    }

    [Fact]
    public async Task KilledWhileQueueingOnPostgres13EndsAtItsLockTimeout()
    {
        Assert.SkipUnless(fixture.Server.MajorVersion == 13,
            "Pins PostgreSQL 13, which has no client_connection_check_interval; on 14 and later the server aborts a killed migrator's statement within a second, which the KilledMidMigration test covers.");

        // Given a migrator with a lock timeout of 10 s killed while its ALTER of chats queues behind a report
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");
        await using (var victim = CoderdDb.Start(["up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "10"]))
        {
            await WaitForTheMigrationToBlockAsync(database);
            victim.KillHard();
        }

        // Then its backend still queues and holds the migration lock right after the kill
        Assert.Equal((1L, 1L), (await CliDatabases.WaitingOnChatsAsync(database), await CliDatabases.AdvisoryLocksAsync(database)));

        // And the lock timeout ends its statement while the report is still open: the failed statement ends
        // the transaction (whatever else was sent is skipped), and the backend finds its client gone
        await CliDatabases.WaitUntilAsync(async () => await CliDatabases.AdvisoryLocksAsync(database) == 0, TimeSpan.FromSeconds(30), "the orphaned backend to end");
        Assert.Equal(0L, await CliDatabases.WaitingOnChatsAsync(database));
        Assert.Equal(1L, await Sql.ScalarAsync<long>(blocker,
            "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 'chats'::regclass AND granted", TestContext.Current.CancellationToken));

        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    [Theory]
    [InlineData("SIGTERM", 143)]
    [InlineData("SIGINT", 130)]
    public async Task SignalMidMigrationRollsBackReleasesTheLockAndExits(string signal, int expectedExitCode)
    {
        // Given a migrator in the middle of the MCP migration
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");
        await using var victim = StartMcpMigration(database);
        await WaitForTheMigrationToBlockAsync(database);

        // When it is asked to stop
        if (signal == "SIGTERM") victim.Terminate();
        else victim.InterruptWithCtrlC();
        var run = await victim.WaitAsync(TimeSpan.FromSeconds(20));

        // Then the statement was cancelled, the migration rolled back and the lock released before it exited
        Assert.True(run.ExitCode == expectedExitCode, run.ToString());
        Assert.Contains($"Interrupted by {signal}", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
        Assert.Equal(0L, await CliDatabases.AdvisoryLocksAsync(database));
        Assert.Equal(0L, await CliDatabases.WaitingOnChatsAsync(database));
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    // A lock timeout longer than the test, so the migration waits until it is stopped.
    private static CliProcess StartMcpMigration(string database) =>
        CoderdDb.Start(["up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "120"]);

    private static Task WaitForTheMigrationToBlockAsync(string database) =>
        CliDatabases.WaitUntilAsync(async () => await CliDatabases.WaitingOnChatsAsync(database) > 0, TimeSpan.FromSeconds(30), "the MCP migration to wait for its lock on chats");
}
