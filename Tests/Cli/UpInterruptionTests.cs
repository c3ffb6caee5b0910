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
    public async Task KilledMidMigrationLeavesNothingHalfAppliedAndNextUpGetsTheLock()
    {
        // Given a migrator killed with SIGKILL while its migration runs (and holds the lock)
        var database = await CliDatabases.CreateMigratedAsync(fixture);
        await using var victim = StartSleepingMigration(database);
        await WaitForSleepAsync(database);
        victim.KillHard();

        // When the next deployment job runs, allowed to wait only briefly for the lock
        var next = await CoderdDb.RunAsync("up", "--connection", database, "--lock-wait", "5");

        // Then it gets the lock, no orphaned backend is still working, and nothing half applied remains
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Contains("up to date", next.Stdout, StringComparison.Ordinal);
        Assert.Empty(await CliDatabases.ActiveQueriesAsync(database));
        Assert.False(await CliDatabases.TableExistsAsync(database, ProbeTable));
        Assert.DoesNotContain(FailingVersion, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
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
