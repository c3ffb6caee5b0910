using System.Diagnostics;
using Npgsql;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

public sealed class LockTimeoutTests(PostgresFixture fixture)
{
    [Fact]
    public async Task ConflictingLockMakesMigrationRetryThenFailNamingTheBlockerWithoutStallingReaders()
    {
        // Given a database just before the MCP migration, which alters chats
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        // And a session holding a lock on chats in an open transaction, and a reader querying chats all along
        await using var blocker = await CliDatabases.HoldLockOnChatsAsync(database, "blocking-session");

        using var stopReading = new CancellationTokenSource();
        var reader = ReadContinuouslyAsync(database, stopReading.Token);

        // When the MCP migration runs with a 1 s lock timeout and one retry
        var run = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "1", "--lock-retries", "1");
        await stopReading.CancelAsync();
        var (queries, worst) = await reader;

        // Then it gave up after each lock timeout, retried, and failed naming the blocker
        Assert.True(run.ExitCode == 1, run.ToString());
        var error = Assert.Single(run.ErrorLines);
        Assert.Contains("55P03", error, StringComparison.Ordinal);
        Assert.Contains($"pid {blocker.ProcessID} (blocking-session)", error, StringComparison.Ordinal);
        Assert.Contains("on chats", error, StringComparison.Ordinal);
        Assert.Single(run.Stdout.Split('\n'), line => line.Contains("lock_timeout (1s)", StringComparison.Ordinal));
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);

        // And the reader, though queued behind the waiting ALTER, never waited much longer than the lock timeout
        Assert.True(queries > 10, $"The reader ran only {queries} queries.");
        Assert.True(worst < TimeSpan.FromSeconds(1.5), $"A reader waited {worst.TotalMilliseconds:0} ms.");

        // And once the blocker is gone, the same command succeeds
        await using (var commit = new NpgsqlCommand("COMMIT", blocker)) await commit.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        var retry = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "1");
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }

    /// <summary>Runs <c>SELECT count(*) FROM chats</c> back to back; returns how many ran and the slowest.</summary>
    private static async Task<(int Queries, TimeSpan Worst)> ReadContinuouslyAsync(string database, CancellationToken stop)
    {
        await using var connection = await CliDatabases.OpenAsync(database, applicationName: "reader");
        var worst = TimeSpan.Zero;
        var queries = 0;
        while (!stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            await using (var command = new NpgsqlCommand("SELECT count(*) FROM chats", connection))
            {
                await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
            }

            worst = watch.Elapsed > worst ? watch.Elapsed : worst;
            queries++;
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        return (queries, worst);
    }
}
