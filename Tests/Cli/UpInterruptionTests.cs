namespace Coderd.Database.Tests.Cli;

/// <summary>
/// A migrator stopped in the middle of a migration (a test-only one that creates a table and then
/// sleeps in pg_sleep): nothing of it may remain, and the lock must be free again.
/// </summary>
public sealed class UpInterruptionTests(PostgresFixture fixture)
{
    private const string ProbeTable = "failing_probe";
    private const long FailingVersion = 2099_01_01_0001;

    [Fact]
    public async Task KilledMidMigrationLeavesNothingHalfAppliedAndTheNextJobGetsTheLock()
    {
        // Given a migrator killed with SIGKILL while its migration runs (and holds the lock)
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await using var victim = StartSleepingMigration(database);
        await WaitForSleepAsync(database);
        victim.KillHard();

        // When the next job that needs the lock runs, allowed to wait only briefly for it
        var next = await CoderdDb.RunAsync("down", "--to", CliDatabases.BeforeLatest.ToString(), "--connection", database, "--lock-wait", "5");

        // Then it gets the lock (the server aborted the orphaned transaction), nothing half applied remains, and up finds nothing to do
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Contains($"Rolled back {CliDatabases.Latest} ", next.Stdout, StringComparison.Ordinal);
        Assert.Empty(await CliDatabases.ActiveQueriesAsync(database));
        Assert.False(await CliDatabases.TableExistsAsync(database, ProbeTable));
        Assert.DoesNotContain(FailingVersion, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
        var up = await CoderdDb.RunAsync("up", "--connection", database);
        Assert.True(up.ExitCode == 0, up.ToString());
        Assert.Contains($"Applied {CliDatabases.Latest} ", up.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SIGTERM", 143)]
    [InlineData("SIGINT", 130)]
    public async Task SignalMidMigrationRollsBackReleasesTheLockAndExits(string signal, int expectedExitCode)
    {
        // Given a migrator in the middle of a migration
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await using var victim = StartSleepingMigration(database);
        await WaitForSleepAsync(database);

        // When it is asked to stop
        if (signal == "SIGTERM") victim.Terminate();
        else victim.InterruptWithCtrlC();
        var run = await victim.WaitAsync(TimeSpan.FromSeconds(20));

        // Then the statement was cancelled, the migration rolled back and the lock released before it exited
        Assert.True(run.ExitCode == expectedExitCode, run.ToString());
        Assert.Contains($"Interrupted by {signal}", Assert.Single(run.ErrorLines), StringComparison.Ordinal);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(30), run.ToString());
        Assert.Empty(await CliDatabases.ActiveQueriesAsync(database));
        Assert.Equal(0L, await CliDatabases.ScalarAsync<long>(database,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
        Assert.False(await CliDatabases.TableExistsAsync(database, ProbeTable));
        Assert.DoesNotContain(FailingVersion, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    private static CliProcess StartSleepingMigration(string database) =>
        CoderdDb.Start(
            ["up", "--connection", database, "--extra-migrations", CoderdDb.FailingMigrationsPath],
            new Dictionary<string, string?> { ["CODERD_DB_TEST_SLEEP_SECONDS"] = "60" });

    private static Task WaitForSleepAsync(string database) =>
        CliDatabases.WaitUntilAsync(
            async () => (await CliDatabases.ActiveQueriesAsync(database)).Any(q => q.Contains("pg_sleep", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the test migration to reach pg_sleep");
}
