using Coderd.Database.Tests.Schema;
using Npgsql;

namespace Coderd.Database.Tests.Cli;

/// <summary>Deployment jobs as real <c>coderd-db</c> processes through a real PgBouncer: racing in transaction mode, queued in a full session pool.</summary>
public sealed class PoolerCliTests(PostgresFixture fixture)
{
    [Fact]
    public async Task SimultaneousUpsThroughATransactionPoolerAllSucceedAndApplyEachVersionOnce()
    {
        // Given an empty database behind a PgBouncer in transaction mode, with two server connections
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await using var bouncer = await PgBouncer.StartAsync(database, "transaction", poolSize: 2);

        // When four deployment jobs start at once through it
        var processes = Enumerable.Range(0, 4).Select(_ => CoderdDb.Start(["up", "--connection", bouncer.Route(database)])).ToList();
        var runs = await Task.WhenAll(processes.Select(p => p.WaitAsync(TimeSpan.FromSeconds(90))));
        foreach (var process in processes) await process.DisposeAsync();

        // Then all exit 0, each version was applied by exactly one job, and no lock or setting is left on any server connection
        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        // One line per migration, "Applied <12-digit version> ..."; a job's closing "Applied 23 migration(s) ..." is not one.
        var applied = runs.SelectMany(run => run.Stdout.Split('\n').Select(line => line.Split(' '))
            .Where(words => words is ["Applied", { Length: 12 } version, ..] && version.All(char.IsAsciiDigit))).Count();
        Assert.Equal(CliDatabases.Versions.Count, applied);
        var recorded = await CliDatabases.RecordedVersionsAsync(database);
        Assert.Equal(CliDatabases.Versions, recorded.Keys.Order());
        Assert.All(recorded.Values, count => Assert.Equal(1, count));
        await PoolerTests.AssertNothingLeftBehindAsync(database, bouncer, 2);
    }

    [Fact]
    public async Task UpQueuedInAFullSessionPoolForLongerThanTheLockWaitExits4SayingSo()
    {
        // Given an empty database behind a session pooler whose only server connection another client holds
        var database = await CliDatabases.CreateEmptyAsync(fixture);
        await using var bouncer = await PgBouncer.StartAsync(database, "session", poolSize: 1);
        await using var holder = await CliDatabases.OpenAsync(bouncer.Route(database));
        await using (var command = new NpgsqlCommand("SELECT 1", holder)) await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);

        // When a deployment job runs up through it, allowed to wait 3 s (its command timeout is Npgsql's 30 s)
        var run = await CoderdDb.RunAsync("up", "--lock-wait", "3", "--connection", bouncer.Route(database));

        // Then it said it waited, and exits 4 (as for the migration lock) in one line saying what to do; nothing was created
        run.AssertOneLineFailure(4, CliDatabases.Password(database));
        Assert.Contains("The pooler gave no server connection within 3 s", run.ErrorLines[0], StringComparison.Ordinal);
        Assert.Contains("default_pool_size", run.ErrorLines[0], StringComparison.Ordinal);
        Assert.Contains(run.Stdout.Split('\n'), line => line.StartsWith("Waiting for a server connection", StringComparison.Ordinal));
        Assert.Empty(await CliDatabases.RecordedVersionsAsync(database));
    }
}
