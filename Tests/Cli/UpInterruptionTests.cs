using Npgsql;
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
        await using (var commit = new NpgsqlCommand("COMMIT", blocker)) await commit.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        var next = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-wait", "5");
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Contains($"Applied {AddMcpServerConfigs} ", next.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await CliDatabases.RecordedVersionsAsync(database))[AddMcpServerConfigs]);
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
