using Coderd.Database.Tests.Support;
using static Coderd.Database.Tests.NamedMigrations;

namespace Coderd.Database.Tests.Cli;

public sealed class LockTimeoutTests(PostgresFixture fixture)
{
    [Fact]
    public async Task BlockerOutlastingTheRetryBudgetExits1NamingItThenUpSucceedsOnceItEnds()
    {
        // Given a database just before the MCP migration
        var database = await CliDatabases.CreateMigratedToAsync(fixture, ValidateChatSpendLimits);

        // And a client stuck in a transaction that has read chats
        await using var stuck = await CliDatabases.OpenAsync(database, applicationName: "stuck-client");
        await Sql.ExecuteAsync(stuck, "BEGIN; SELECT count(*) FROM chats", TestContext.Current.CancellationToken);

        // When up runs with a 1 s lock timeout and a 2 s retry budget
        var run = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "1", "--lock-retry-budget", "2");

        // Then it exits 1 with one line naming the stuck session, not its query, and applied nothing
        Assert.True(run.ExitCode == 1, run.ToString());
        var error = Assert.Single(run.ErrorLines);
        Assert.Contains("55P03", error, StringComparison.Ordinal);
        Assert.Contains("waiting for AccessExclusiveLock on chats", error, StringComparison.Ordinal);
        Assert.Contains($"blocked by pid {stuck.ProcessID} (stuck-client, idle in transaction, transaction open ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("count(*)", run.Output, StringComparison.Ordinal);
        Assert.Contains(run.Stdout.Split('\n'), line => line.Contains($"{AddMcpServerConfigs}: attempt 1 gave up after lock_timeout (1s)", StringComparison.Ordinal));
        Assert.False(await CliDatabases.TableExistsAsync(database, "mcp_server_configs"));
        Assert.False(await CliDatabases.ScalarAsync<bool>(database,
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'chats'::regclass AND attname = 'mcp_server_ids')"));
        Assert.DoesNotContain(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);

        // And once the stuck transaction ends, the same command succeeds
        await Sql.ExecuteAsync(stuck, "COMMIT", TestContext.Current.CancellationToken);
        var retry = await CoderdDb.RunAsync("up", "--connection", database, "--to", AddMcpServerConfigs.ToString(), "--lock-timeout", "1", "--lock-retry-budget", "2");
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains(AddMcpServerConfigs, (await CliDatabases.RecordedVersionsAsync(database)).Keys);
    }
}
